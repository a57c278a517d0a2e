"""Portal forms. File checks beyond presence happen in jobs.inputs, shared with
the API and the CLI."""
from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import Subject
from consent.services import subjects_for
from jobs.gate import current_policy
from generation.controls import BACKEND_NAMES, DEFAULT_MOTION, EMOTIONS, LIPSYNC, MOTIONS, SIZES


class NewJobForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), label=_("Subject"), help_text=_("The person shown in the photo."),
                                     error_messages={"invalid_choice": _("That subject is not one of your subjects.")})
    photo = forms.FileField(label=_("Photo"), help_text=_("A portrait with exactly one face (JPEG, PNG or WebP)."))
    audio = forms.FileField(label=_("Audio"), help_text=_("The voice track (wav, mp3, flac, m4a or ogg)."))
    purpose = forms.ChoiceField(choices=(), label=_("Purpose"), help_text=_("What the video is for; the subject's consent must cover it."))
    channel = forms.ChoiceField(choices=(), required=False, label=_("Channel"),
                                help_text=_("Where the video will be shown, if the subject's consent limits channels."))
    emotion = forms.ChoiceField(choices=[(e, e.capitalize()) for e in EMOTIONS], initial="neutral", label=_("Emotion"))
    expression_scale = forms.FloatField(min_value=0, max_value=2, initial=1.0, label=_("Expression scale"))
    head_motion = forms.FloatField(min_value=0, max_value=2, initial=1.0, label=_("Head motion"))
    gaze = forms.CharField(initial="0,0", label=_("Gaze"), help_text=_("X,Y from -1 to 1."))
    blink_rate = forms.FloatField(min_value=0, max_value=60, initial=15, label=_("Blinks per minute"))
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, initial=0, label=_("Seed"))
    size = forms.TypedChoiceField(choices=[(s, f"{s} x {s}") for s in SIZES], coerce=int, initial=512, label=_("Size"))
    backend = forms.ChoiceField(choices=[("warp", _("Warp (CPU)")), ("diffusion", _("Diffusion (GPU)"))],
                                initial="warp", required=False, label=_("Engine"),
                                help_text=_("Diffusion runs on the GPU queue."))
    motion = forms.ChoiceField(choices=[(m, m.capitalize()) for m in MOTIONS], initial=DEFAULT_MOTION,
                               required=False, label=_("Motion planner"))
    lipsync = forms.ChoiceField(choices=[(m, m.capitalize()) for m in LIPSYNC], initial="auto",
                                required=False, label=_("Lip sync"),
                                help_text=_("Mouth shapes from English phones, from formants, or chosen automatically."))

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = subjects_for(creator).order_by("display_name")
        policy = current_policy()
        self.fields["purpose"].choices = [("", _("Choose a purpose"))] + [
            (p, p.capitalize()) for p in policy.param("allowed_purpose", "purposes", [])]
        self.fields["channel"].choices = [("", _("Not stated"))] + [
            (c, c.capitalize()) for c in policy.param("consent_in_scope", "channels", [])]
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-help"
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["audio"].widget.attrs["accept"] = "audio/*,.wav,.mp3,.flac,.m4a,.ogg"

    def controls(self) -> dict:
        keys = ("emotion", "expression_scale", "head_motion", "gaze", "blink_rate", "seed", "size", "backend",
                "motion", "lipsync")
        return {k: self.cleaned_data[k] for k in keys}


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("A video or image to check."))
