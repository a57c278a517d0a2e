"""Portal forms. File checks beyond presence happen in jobs.inputs, shared with
the API and the CLI."""
from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import Subject
from consent.policy import current_policy
from consent.services import subjects_for, subjects_to_offer
from generation.controls import Control, declared
from jobs.backends import unavailable_backends
from jobs.services import LIVE_PURPOSE


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
    again by generation.controls.Controls when the job is submitted."""
    common = {"label": _(control.label), "help_text": _(control.help) if control.help else "", "required": False}
    if control.kind == "choice":
        field = forms.TypedChoiceField if control.normalise is None else LooseChoiceField
        extra = {} if control.normalise is None else {"normalise": control.normalise}
        return field(**extra, choices=[(c, _(control.choice_label(c))) for c in control.choices],
                     coerce=control.clean, initial=control.default, **common)
    if control.kind == "number":
        return forms.FloatField(min_value=control.low, max_value=control.high, initial=control.default,
                                widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if control.kind == "integer":
        return forms.IntegerField(min_value=control.low, max_value=control.high, initial=control.default, **common)
    return forms.CharField(initial=control.text(control.default), **common)


class NewJobForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), label=_("Subject"),
                                     help_text=_("The person shown in the photo."),
                                     error_messages={"invalid_choice": _("That subject is not one of your subjects.")})
    photo = forms.FileField(label=_("Photo"), help_text=_("A portrait with exactly one face (JPEG, PNG or WebP)."))
    audio = forms.FileField(label=_("Audio"), help_text=_("The voice track (wav, mp3, flac, m4a or ogg)."))
    purpose = forms.ChoiceField(choices=(), label=_("Purpose"),
                                help_text=_("What the video is for; the subject's consent must cover it."))
    channel = forms.ChoiceField(choices=(), required=False, label=_("Channel"),
                                help_text=_("Where the video will be shown, if the subject's consent limits channels."))

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update({c.name: control_field(c) for c in declared()})
        off = unavailable_backends()  # engines no worker here can run are not offered; the help says why
        if off:
            backend = self.fields["backend"]
            backend.choices = [(v, label) for v, label in backend.choices if v not in off]
            backend.help_text = " ".join(str(_(why)) for why in off.values())
        subject = self.fields["subject"]
        subject.queryset = subjects_for(creator).order_by("display_name")
        # Offered: not a subject who revoked (a crafted choice of one still gets the gate's reason).
        subject.widget.choices = [("", subject.empty_label)] + [
            (s.pk, subject.label_from_instance(s)) for s in subjects_to_offer(creator).order_by("display_name")]
        policy = current_policy()
        self.fields["purpose"].choices = [("", _("Choose a purpose"))] + [
            (p, p.capitalize()) for p in policy.param("allowed_purpose", "purposes", []) if p != LIVE_PURPOSE]
        self.fields["channel"].choices = [("", _("Not stated"))] + [
            (c, c.capitalize()) for c in policy.param("consent_in_scope", "channels", [])]
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-help"
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["audio"].widget.attrs["accept"] = "audio/*,.wav,.mp3,.flac,.m4a,.ogg"

    def control_fields(self) -> list:
        """The bound fields of the controls, in their declared order (the template loops over them)."""
        return [self[c.name] for c in declared()]

    def controls(self) -> dict:
        return {c.name: self.cleaned_data[c.name] for c in declared()
                if self.cleaned_data.get(c.name) not in (None, "")}


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("A video or image to check."))
