"""Portal forms. File checks beyond presence happen in jobs.inputs, shared with
the API and the CLI."""
from django import forms

from consent.models import Subject
from generation.controls import EMOTIONS, SIZES


class NewJobForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), help_text="The person shown in the photo.")
    photo = forms.FileField(help_text="A portrait with exactly one face (JPEG, PNG or WebP).")
    audio = forms.FileField(help_text="The voice track (wav, mp3, flac, m4a or ogg).")
    purpose = forms.CharField(max_length=64, required=False, help_text="What the video is for.")
    emotion = forms.ChoiceField(choices=[(e, e.capitalize()) for e in EMOTIONS], initial="neutral")
    expression_scale = forms.FloatField(min_value=0, max_value=2, initial=1.0, label="Expression scale")
    head_motion = forms.FloatField(min_value=0, max_value=2, initial=1.0, label="Head motion")
    gaze = forms.CharField(initial="0,0", help_text="X,Y from -1 to 1.")
    blink_rate = forms.FloatField(min_value=0, max_value=60, initial=15, label="Blinks per minute")
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1, initial=0)
    size = forms.TypedChoiceField(choices=[(s, f"{s} x {s}") for s in SIZES], coerce=int, initial=512)

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = Subject.objects.filter(created_by=creator).order_by("display_name")
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-help"
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["audio"].widget.attrs["accept"] = "audio/*,.wav,.mp3,.flac,.m4a,.ogg"

    def controls(self) -> dict:
        keys = ("emotion", "expression_scale", "head_motion", "gaze", "blink_rate", "seed", "size")
        return {k: self.cleaned_data[k] for k in keys}


class VerifyForm(forms.Form):
    file = forms.FileField(help_text="A video or image to check.")
