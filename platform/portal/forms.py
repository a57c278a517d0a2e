"""Portal forms. File checks beyond presence happen in jobs.inputs, shared with
the API and the CLI; the new-video form runs each of them on its own file so that
every problem is reported at once, and keeps the files that passed (portal.stash)."""
import secrets

from django import forms
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from consent.models import Subject
from consent.policy import current_policy
from consent.services import subjects_for
from generation.audio import decode_audio
from generation.controls import Control, declared
from generation.errors import InputError
from generation.images import sniff_image
from jobs.backends import unavailable_backends
from jobs.inputs import read_upload
from jobs.services import LIVE_PURPOSE
from veritalk.words import choices

from . import stash


def _shown(value) -> str:
    """A number as the reader's language writes it (1,5 in French)."""
    try:
        return number_format(float(value), decimal_pos=None, use_l10n=True)
    except (TypeError, ValueError):
        return str(value)


class Slider(forms.NumberInput):
    """A range input with its value shown beside it (portal/new_job.js keeps it current)."""
    input_type = "range"
    template_name = "portal/widgets/slider.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["shown"] = _shown(context["widget"]["value"])
        return context


class GazePicker(forms.MultiWidget):
    """Gaze as two sliders (left-right, down-up) and a pad to point with; posts "X,Y" as
    before. A plain `gaze=X,Y` in the data (API-like clients, old pages) is read too."""
    template_name = "portal/widgets/gaze.html"

    def __init__(self, control: Control):
        step = _step(control)
        common = {"min": control.low, "max": control.high, "step": step}
        super().__init__([Slider(attrs={**common, "aria-label": _("Gaze, left to right")}),
                          Slider(attrs={**common, "aria-label": _("Gaze, down to up")})])

    def decompress(self, value):
        if value in (None, ""):
            return [0.0, 0.0]
        parts = value.split(",") if isinstance(value, str) else list(value)
        return (parts + ["", ""])[:2]

    def value_from_datadict(self, data, files, name):
        if name in data:
            return data.get(name)
        x, y = data.get(f"{name}_0"), data.get(f"{name}_1")
        return None if x in (None, "") or y in (None, "") else f"{x},{y}"

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_0" not in data


def _checked_by(control: Control):
    """A validator asking the control's own declaration (its message names the range)."""
    def check(value):
        try:
            control.clean(value)
        except InputError as exc:
            raise forms.ValidationError(exc.message) from None
    return check


def _step(control: Control):
    return 1 if control.high - control.low > 10 else 0.05


class LooseChoiceField(forms.TypedChoiceField):
    """A choice that also takes the control's other spellings of a value (a size as 512
    or 512x512), turned into the stored one before it is checked against the choices."""

    def __init__(self, *, normalise, **kwargs):
        self.normalise = normalise
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return self.normalise(value)
        except (TypeError, ValueError):
            return value      # not a spelling of any choice: refused as an invalid choice


def control_field(control: Control) -> forms.Field:
    """The form field of a declared control; blank means its default. Values are checked
    again by generation.controls.Controls when the job is submitted. Ranged numbers are
    sliders with their value shown, integers steppers, the gaze a picker."""
    common = {"label": _(control.label), "help_text": _(control.help) if control.help else "", "required": False}
    if control.kind == "choice":
        field = forms.TypedChoiceField if control.normalise is None else LooseChoiceField
        extra = {} if control.normalise is None else {"normalise": control.normalise}
        return field(**extra, choices=[(c, _(control.choice_label(c))) for c in control.choices],
                     coerce=control.clean, initial=control.default, **common)
    if control.kind == "number":
        return forms.FloatField(min_value=control.low, max_value=control.high, initial=control.default,
                                widget=Slider(attrs={"step": _step(control)}), **common)
    if control.kind == "integer":
        return forms.IntegerField(min_value=control.low, max_value=control.high, initial=control.default, **common)
    if control.kind == "pair":
        return forms.CharField(initial=control.text(control.default), widget=GazePicker(control),
                               validators=[_checked_by(control)], **common)
    return forms.CharField(initial=control.text(control.default), **common)


def consent_scopes(creator, subjects) -> dict:
    """Per subject (by id): its name, whether it enrolled, and the purposes and channels its
    active consents to `creator` cover (channels [] = any); subjects without an active consent
    are absent. The form offers only these."""
    out = {}
    for s in subjects:
        active = [c for c in s.consents.filter(creator=creator) if c.is_active()]
        if not active:
            continue
        purposes = sorted({p for c in active for p in (c.purposes or [])})
        channels = [] if any(not c.channels for c in active) else sorted({ch for c in active for ch in c.channels})
        out[str(s.pk)] = {"name": s.display_name, "enrolled": s.enrolled, "purposes": purposes, "channels": channels}
    return out


class SubjectSelect(forms.Select):
    """Subjects without an active consent are listed but cannot be chosen, and say why."""
    scopes: dict = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        pk = str(getattr(value, "value", value) or "")
        if pk and pk not in self.scopes:
            option["attrs"]["disabled"] = True
            option["label"] = _("%(name)s (no active consent)") % {"name": label}
        return option


class NewJobForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), label=_("Subject"), widget=SubjectSelect,
                                     help_text=_("The person shown in the photo."), empty_label=_("Choose a subject"),
                                     error_messages={"invalid_choice": _("That subject is not one of your subjects."),
                                                     "required": _("Choose the subject shown in the photo.")})
    photo = forms.FileField(label=_("Photo"), required=False,
                            help_text=_("A portrait with exactly one face (JPEG, PNG or WebP)."))
    audio = forms.FileField(label=_("Audio"), required=False,
                            help_text=_("The voice track (wav, mp3, flac, m4a or ogg)."))
    purpose = forms.ChoiceField(choices=(), label=_("Purpose"),
                                help_text=_("What the video is for; the subject's consent must cover it."),
                                error_messages={"required": _("Choose what the video is for.")})
    channel = forms.ChoiceField(choices=(), required=False, label=_("Channel"),
                                help_text=_("Where the video will be shown, if the subject's consent limits channels."))
    upload_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.creator = creator
        self.fields.update({c.name: control_field(c) for c in declared()})
        off = unavailable_backends()  # engines no worker here can run are not offered; the help says why
        if off:
            backend = self.fields["backend"]
            backend.choices = [(v, label) for v, label in backend.choices if v not in off]
            backend.help_text = " ".join(str(_(why)) for why in off.values())
        subjects = subjects_for(creator).order_by("display_name")
        self.fields["subject"].queryset = subjects
        self.scopes = consent_scopes(creator, subjects)
        self.fields["subject"].widget.scopes = self.scopes
        policy = current_policy()
        purposes = [p for p in policy.param("allowed_purpose", "purposes", []) if p != LIVE_PURPOSE]
        self.fields["purpose"].choices = [("", _("Choose a purpose"))] + choices("purpose", purposes)
        self.fields["channel"].choices = [("", _("Not stated"))] + choices(
            "channel", policy.param("consent_in_scope", "channels", []))
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-help"
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["audio"].widget.attrs["accept"] = "audio/*,.wav,.mp3,.flac,.m4a,.ogg"
        # The token the chosen files are kept under between attempts (one per form, made here).
        token = self.data.get("upload_token", "") if self.is_bound else ""
        self.token = token if stash.TOKEN.match(token or "") else secrets.token_urlsafe(18)
        if self.is_bound:
            self.data = self.data.copy()
            self.data["upload_token"] = self.token
            for c in declared():   # a control left out means its default: show that, not an empty slider
                if c.name not in self.data and f"{c.name}_0" not in self.data:
                    self.data[c.name] = c.text(c.default)
        self.fields["upload_token"].initial = self.token

    def kept(self) -> dict:
        """{field: file name} of the files kept from an earlier attempt of this form."""
        out = {}
        for field in ("photo", "audio"):
            name = stash.name(self.creator, self.token, field)
            if name:
                out[field] = name
        return out

    def _file(self, field: str, limit: int, check) -> tuple[str, bytes]:
        upload = self.cleaned_data.get(field)
        if upload:
            stash.drop(self.creator, self.token, field)   # a new choice replaces the kept one
            try:
                data = read_upload(upload, limit=limit, field=field)
                check(data)
            except InputError as exc:
                raise forms.ValidationError(exc.message) from None
            stash.put(self.creator, self.token, field, upload.name, data)
            return upload.name, data
        kept = stash.get(self.creator, self.token, field)
        if kept is None:
            raise forms.ValidationError(_("Choose a photo.") if field == "photo" else _("Choose a voice track."))
        return kept

    def clean_photo(self):
        return self._file("photo", settings.VERITALK_MAX_PHOTO_BYTES,
                          lambda data: sniff_image(data, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS))

    def clean_audio(self):
        return self._file("audio", settings.VERITALK_MAX_AUDIO_BYTES,
                          lambda data: decode_audio(data, max_seconds=settings.VERITALK_MAX_AUDIO_SECONDS))

    def clear_kept(self) -> None:
        stash.drop(self.creator, self.token)

    def control_fields(self) -> list:
        """The bound fields of the controls, in their declared order (the template loops over them)."""
        return [self[c.name] for c in declared()]

    def controls(self) -> dict:
        return {c.name: self.cleaned_data[c.name] for c in declared()
                if self.cleaned_data.get(c.name) not in (None, "")}


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("A video or image to check."))
