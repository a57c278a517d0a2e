"""Users and their roles. Creators must be vetted before they can generate."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Who an account is; what each role may do is in accounts.permissions."""
    CREATOR = "creator", _("Creator")
    SUBJECT = "subject", _("Subject")
    AUDITOR = "auditor", _("Auditor")
    MODERATOR = "moderator", _("Moderator")
    ADMIN = "admin", _("Admin")


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CREATOR)
    vetted = models.BooleanField(default=False, help_text="Creators can generate only once vetted.")
    vetted_at = models.DateTimeField(null=True, blank=True)
    vetted_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vetting_note = models.TextField(blank=True)

    def policy_facts(self) -> dict:
        return {"username": self.username, "role": self.role, "vetted": self.vetted}
