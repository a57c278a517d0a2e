"""Portal pages of the consent lifecycle: the invitation link, the subject's own
pages (enrol, grant, revoke, videos of them), the creator's invitations, and the
moderators' vetting and elevated-consent pages. A thin layer over
consent.services and consent.invitations, like the API."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role, VettingRequest
from accounts.permissions import MODERATORS_ONLY, can_moderate, is_creator, is_subject, require
from accounts.services import set_vetted
from audit.chain import record
from common.errors import UserError
from consent.invitations import accept_invitation, create_invitation, find_by_token
from consent.models import Consent, Invitation
from consent.services import ConsentError, creators_of, elevate_consent, enrol_selfies, give_consent, revoke_consent
from jobs.inputs import read_upload

from .consent_forms import GrantForm, InviteForm, NoteForm, RevokeForm, SelfieForm, SubjectSignupForm


def _subject_only(request):
    require(request.user, is_subject, gettext_noop("This page is for subject accounts."))
    return getattr(request.user, "subject_profile", None)


# --- the invitation link -----------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """Landing page of an invitation link: sign up or log in as a subject, then accept."""
    inv = find_by_token(token)
    if inv is None:
        return render(request, "consent/invitation.html", {"problem": _("This invitation link is not valid.")},
                      status=404)
    signup = SubjectSignupForm(request.POST if request.POST.get("signup") else None)
    if request.method == "POST":
        if request.POST.get("signup"):
            if request.user.is_authenticated:
                raise PermissionDenied("log out before creating another account")
            problem = _signup_refusal(inv)
            if problem is not None:
                record("invitation.refused", target=inv, data={"code": problem.code, "via": "signup"})
                return _refused(request, inv, problem, signup)
            if not signup.is_valid():
                return render(request, "consent/invitation.html", {"inv": inv, "signup": signup}, status=400)
            user = signup.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        elif not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        try:
            accept_invitation(account=request.user, invitation=inv)
        except ConsentError as exc:
            return _refused(request, inv, exc, signup)
        messages.success(request, _("You accepted %(creator)s's invitation. Enrol your face, then decide what you "
                                    "consent to.") % {"creator": inv.creator.username})
        return redirect("consent_portal:enrol")
    return render(request, "consent/invitation.html", {"inv": inv, "signup": signup})


def _signup_refusal(inv: Invitation) -> ConsentError | None:
    """Refuse before an account is created for an invitation that cannot be accepted."""
    if inv.state == "accepted":
        return ConsentError(gettext_noop("This invitation has already been used; ask the creator for a new one."),
                            code="used")
    if inv.state == "expired":
        return ConsentError(gettext_noop("This invitation has expired; ask the creator for a new one."), code="expired")
    if inv.invitee_id is not None:
        return ConsentError(gettext_noop("This invitation was sent to an existing account; log in as it."),
                            code="not_for_you")
    return None


def _refused(request, inv, exc: ConsentError, signup):
    return render(request, "consent/invitation.html", {"inv": inv, "signup": signup, "problem": exc.message},
                  status=409 if exc.code == "used" else 403)


# --- the subject's pages -----------------------------------------------------------------------

@login_required
def me(request):
    subject = _subject_only(request)
    pending = Invitation.objects.filter(invitee=request.user, accepted_at__isnull=True).select_related("creator")
    consents = subject.consents.select_related("creator").order_by("-granted_at") if subject else []
    return render(request, "consent/me.html", {"subject": subject, "pending": pending, "consents": consents,
                                               "creators": creators_of(subject) if subject else []})


@login_required
@require_POST
def accept_sent(request, invitation_id: int):
    """Accept an invitation sent to this subject account (no link needed)."""
    _subject_only(request)
    inv = get_object_or_404(Invitation, pk=invitation_id, invitee=request.user)
    try:
        accept_invitation(account=request.user, invitation=inv)
    except ConsentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You accepted %(creator)s's invitation.") % {"creator": inv.creator.username})
    return redirect("consent_portal:me")


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    subject = _subject_only(request)
    if subject is None:
        messages.error(request, _("Accept an invitation first."))
        return redirect("consent_portal:me")
    form = SelfieForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["selfies"]
        try:
            data = [read_upload(f, limit=settings.VERITALK_MAX_PHOTO_BYTES, field="selfies") for f in files]
            enrol_selfies(account=request.user, selfies=data)
        except UserError as exc:
            form.add_error("selfies", exc.message)
        else:
            messages.success(request, _("Your face is enrolled from %(n)d selfie(s); the photos were not kept.")
                             % {"n": len(files)})
            return redirect("consent_portal:grant")
        finally:
            for f in files:
                f.close()
    return render(request, "consent/enrol.html", {"form": form, "subject": subject},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def grant(request):
    subject = _subject_only(request)
    if subject is None:
        messages.error(request, _("Accept an invitation first."))
        return redirect("consent_portal:me")
    creators = creators_of(subject)
    form = GrantForm(request.POST or None, creators=creators, initial={"creator": request.GET.get("creator")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        creator = get_user_model().objects.get(username=d["creator"])
        try:
            give_consent(account=request.user, creator=creator, purposes=d["purposes"],
                         channels=d["channels"], starts_at=d["starts_at"], expires_at=d["expires_at"],
                         max_videos=d["max_videos"], statement=d["statement"], agreed=d["agree"])
        except ConsentError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Your consent to %(creator)s is active.")
                             % {"creator": creator.username})
            return redirect("consent_portal:me")
    return render(request, "consent/grant.html", {"form": form, "subject": subject},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request, consent_id: int):
    subject = _subject_only(request)
    consent = get_object_or_404(Consent.objects.select_related("creator"), pk=consent_id, subject=subject)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        revoke_consent(consent, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Your consent to %(creator)s is revoked. No new video can be made under it; "
                                    "queued ones were cancelled and existing ones are marked revoked.")
                         % {"creator": consent.creator.username})
        return redirect("consent_portal:me")
    return render(request, "consent/revoke.html", {"form": form, "consent": consent})


@login_required
def videos(request):
    subject = _subject_only(request)
    jobs = (subject.jobs.select_related("creator", "consent", "registry_entry").order_by("-created_at")
            if subject else [])
    rows = [{"job": j, "revoked": bool(getattr(j, "registry_entry", None) and j.registry_entry.revoked)}
            for j in jobs]
    return render(request, "consent/videos.html", {"rows": rows, "subject": subject})


# --- the creator's invitations -----------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def invite(request):
    require(request.user, is_creator, gettext_noop("This page is for creator accounts."))
    form = InviteForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        invitee = None
        if d["invitee"]:
            invitee = get_user_model().objects.filter(username=d["invitee"], role=Role.SUBJECT).first()
            if invitee is None:
                form.add_error("invitee", f"no subject account '{d['invitee']}'")
        if not form.errors:
            try:
                inv, token = create_invitation(creator=request.user, display_name=d["display_name"],
                                               invitee=invitee, message=d["message"])
            except ConsentError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                link = request.build_absolute_uri(reverse("consent_portal:invitation", args=[token]))
                form = InviteForm()
    sent = Invitation.objects.filter(creator=request.user).select_related("invitee", "subject")[:100]
    return render(request, "consent/invite.html", {"form": form, "link": link, "sent": sent},
                  status=400 if form.errors else 200)


# --- moderation --------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def vetting(request):
    require(request.user, can_moderate, MODERATORS_ONLY)
    User = get_user_model()
    form = NoteForm(request.POST or None)
    if request.method == "POST":
        target = get_object_or_404(User, username=request.POST.get("username", ""))
        if form.is_valid():
            try:
                set_vetted(target, by=request.user, vetted=request.POST.get("vetted") == "1",
                           note=form.cleaned_data["note"])
            except UserError as exc:
                messages.error(request, exc.message)
            else:
                done = _("%(name)s is now vetted.") if target.vetted else _("%(name)s is now not vetted.")
                if target.vetting_requests.filter(decided_by=request.user, decided_at__isnull=False).exists():
                    done += " " + _("They were told by e-mail.") if target.email else ""
                messages.success(request, done % {"name": target.username})
                return redirect("consent_portal:vetting")
        else:
            messages.error(request, _("A note is required to change %(name)s's vetting.") % {"name": target.username})
    creators = list(User.objects.filter(role=Role.CREATOR).order_by("vetted", "username"))
    pending = {r.user_id: r for r in VettingRequest.objects.filter(decision=VettingRequest.Decision.PENDING)}
    for c in creators:
        c.pending_request = pending.get(c.pk)
    creators.sort(key=lambda c: c.pending_request is None)  # the queue first: requests waiting for a decision
    return render(request, "consent/vetting.html", {"creators": creators, "form": NoteForm(),
                                                    "waiting": len(pending)},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def elevation(request):
    require(request.user, can_moderate, MODERATORS_ONLY)
    if request.method == "POST":
        consent = get_object_or_404(Consent, pk=request.POST.get("consent") or 0)
        form = NoteForm(request.POST)
        try:
            if not form.is_valid():
                raise ConsentError(gettext_noop("say how the consent was verified"), field="note")
            elevate_consent(consent, by=request.user, note=form.cleaned_data["note"])
        except ConsentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The consent of %(subject)s to %(creator)s is now an elevated, verified "
                                        "consent.") % {"subject": consent.subject.display_name,
                                                       "creator": consent.creator.username})
        return redirect("consent_portal:elevation")
    active = [c for c in Consent.objects.filter(revoked_at__isnull=True).select_related("subject", "creator")
              .order_by("-granted_at")[:200] if c.is_active()]
    return render(request, "consent/elevation.html", {"consents": active, "form": NoteForm()})

