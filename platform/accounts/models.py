"""Users and their roles. Creators must be vetted before they can generate."""
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Who an account is; what each role may do is in accounts.permissions."""
    CREATOR = "creator", _("Creator")
    SUBJECT = "subject", _("Subject")
    AUDITOR = "auditor", _("Auditor")
    MODERATOR = "moderator", _("Moderator")
    ADMIN = "admin", _("Admin")


class UserManager(DjangoUserManager):
    """`createsuperuser` makes an admin (not an unvetted creator): the person who runs the
    deployment vets the others."""

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        extra_fields.setdefault("vetted", True)
        extra_fields.setdefault("vetted_at", timezone.now())
        extra_fields.setdefault("vetting_note", "superuser created from the command line")
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CREATOR)
    vetted = models.BooleanField(default=False, help_text="Creators can generate only once vetted.")
    vetted_at = models.DateTimeField(null=True, blank=True)
    vetted_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vetting_note = models.TextField(blank=True)

    objects = UserManager()

    def policy_facts(self) -> dict:
        return {"username": self.username, "role": self.role, "vetted": self.vetted}

    def pending_vetting_request(self):
        return self.vetting_requests.filter(decision=VettingRequest.Decision.PENDING).first()


class VettingRequest(models.Model):
    """A creator asks to be vetted (from the portal's sign-up); an admin or moderator
    approves or refuses it on the vetting page, and the applicant is told by email."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="vetting_requests")
    message = models.TextField(help_text="What the applicant plans to make, and for whom.")
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True, help_text="The reviewer's note, sent to the applicant.")

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"vetting request of {self.user.username} ({self.decision})"
