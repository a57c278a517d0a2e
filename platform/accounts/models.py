"""Users and their roles. Creators must be vetted before they can generate."""
from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    CREATOR = "creator", "Creator"
    SUBJECT = "subject", "Subject"
    AUDITOR = "auditor", "Auditor"
    MODERATOR = "moderator", "Moderator"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CREATOR)
    vetted = models.BooleanField(default=False, help_text="Creators can generate only once vetted.")
    vetted_at = models.DateTimeField(null=True, blank=True)
    vetted_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vetting_note = models.TextField(blank=True)

    def policy_facts(self) -> dict:
        return {"username": self.username, "role": self.role, "vetted": self.vetted}
