"""Forms of the public pages: sign-up and the vetting request."""
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Role


class CreatorSignupForm(UserCreationForm):
    """A visitor opens a creator account (unvetted: it generates nothing until vetted)."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = _("We write to you there when your account is vetted, and to reset your "
                                           "password.")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.role, user.vetted = Role.CREATOR, False
        if commit:
            user.save()
        return user


class VettingRequestForm(forms.Form):
    message = forms.CharField(
        label=_("What you plan to make"), max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "aria-describedby": "message-help"}),
        help_text=_("Who you are, what videos you plan to make and for whom. An admin reads this before vetting "
                    "your account."))
