"""Forms of the consent pages. The checks that matter live in consent.services,
shared with the API; these forms only shape the input."""
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from consent.policy import current_policy
from veritalk.words import choices


class SubjectSignupForm(UserCreationForm):
    """A person who received an invitation link creates their subject account."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.role, user.vetted = Role.SUBJECT, False
        if commit:
            user.save()
        return user


class InviteForm(forms.Form):
    display_name = forms.CharField(max_length=120, label=_("Person's name"),
                                   help_text=_("How you name the person you want to make videos of."))
    invitee = forms.CharField(max_length=150, required=False, label=_("Their Veritalk username (optional)"),
                              help_text=_("If they already have a subject account; otherwise you get a link to send."))
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Message"),
                              help_text=_("What you plan to make; the person sees this."))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        return [one(d, initial) for d in data] if isinstance(data, (list, tuple)) else [one(data, initial)]


class SelfieForm(forms.Form):
    selfies = MultipleFileField(label=_("Selfies"), help_text=_(
        "1 to 5 recent photos of your face alone (JPEG, PNG or WebP). Only the face measurements are kept; the photos "
        "are not stored."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["selfies"].widget.attrs["aria-describedby"] = "selfies-help"


class GrantForm(forms.Form):
    creator = forms.ChoiceField(label=_("Creator"), help_text=_("Who may make videos of you."))
    purposes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label=_("Purposes"),
                                         help_text=_("What the videos may be used for."))
    channels = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False, label=_("Channels"),
                                         help_text=_("Where they may be shown; none ticked means anywhere."))
    starts_at = forms.DateTimeField(required=False, label=_("Valid from (optional)"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    expires_at = forms.DateTimeField(required=False, label=_("Valid until (optional)"),
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    max_videos = forms.IntegerField(required=False, min_value=1, label=_("Number of videos (optional)"),
                                    help_text=_("Leave empty for no limit."))
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Statement"),
                                help_text=_("Anything you want to add in your own words."))
    agree = forms.BooleanField(required=False, label=_("I agree that this creator may make videos of my face "
                                                       "within these limits, until I revoke this consent."))

    def __init__(self, *args, creators=(), **kwargs):
        super().__init__(*args, **kwargs)
        policy = current_policy()
        self.fields["creator"].choices = [(c.username, c.username) for c in creators]
        self.fields["purposes"].choices = choices("purpose", policy.param("allowed_purpose", "purposes", []))
        self.fields["channels"].choices = choices("channel", policy.param("consent_in_scope", "channels", []))
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-help"


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Note"),
                           help_text=_("Why; kept in the audit log."))


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Reason"),
                             help_text=_("Optional; kept with the revocation."))
