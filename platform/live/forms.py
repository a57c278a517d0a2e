"""The portal's form to open a live session (the gate decides whether it may)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import Subject
from consent.policy import current_policy
from consent.services import subjects_for, subjects_to_offer
from generation.controls import EMOTIONS, control
from veritalk.words import choices

from .services import LIVE_SIZES


class NewLiveForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), label=_("Subject"),
                                     help_text=_("The person shown in the photo; "
                                                 "their consent must cover live sessions."),
                                     error_messages={"invalid_choice": _("That subject is not one of your subjects.")})
    photo = forms.FileField(label=_("Photo"), help_text=_("A portrait with exactly one face (JPEG, PNG or WebP)."))
    channel = forms.ChoiceField(choices=(), required=False, label=_("Channel"),
                                help_text=_("Where the session will be shown, "
                                            "if the subject's consent limits channels."))
    emotion = forms.ChoiceField(choices=[(e, _(control("emotion").choice_label(e))) for e in EMOTIONS],
                                initial="neutral", label=_("Emotion"))
    head_motion = forms.FloatField(min_value=0, max_value=2, initial=1.0, label=_("Head motion"))
    blink_rate = forms.FloatField(min_value=0, max_value=60, initial=15, label=_("Blinks per minute"))
    size = forms.TypedChoiceField(choices=[(s, f"{s} x {s}") for s in LIVE_SIZES], coerce=int, initial=512,
                                  label=_("Size"))

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        subject = self.fields["subject"]
        subject.queryset = subjects_for(creator).order_by("display_name")
        # Offered: not a subject who revoked (a crafted choice of one still gets the gate's reason).
        subject.widget.choices = [("", subject.empty_label)] + [
            (s.pk, subject.label_from_instance(s)) for s in subjects_to_offer(creator).order_by("display_name")]
        self.fields["channel"].choices = [("", _("Not stated"))] + choices(
            "channel", current_policy().param("consent_in_scope", "channels", []))
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-help"
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"

    def controls(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("emotion", "head_motion", "blink_rate", "size")}


class TakeDownForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Why the session is taken down (kept in the audit log)."))
