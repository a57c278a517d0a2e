"""Portal pages: a thin layer over jobs.services and registry.services."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import can_see_every_job, role_of
from audit.chain import record
from consent.services import subjects_for
from generation.errors import InputError
from generation.images import sniff_image
from jobs.intake import accept_job
from jobs.models import Job
from jobs.services import CancelError, cancel_job
from moderation.services import is_taken_down
from registry.uploads import verify_upload
from veritalk.middleware import heavy_request
from veritalk.words import VOCABULARY

from . import stash
from .account_views import landing
from .forms import NewJobForm, VerifyForm

IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

# Where each role lands; creators and admins get the dashboard.
HOME_PAGES = {Role.SUBJECT: "consent_portal:me", Role.AUDITOR: "portal:verify",
              Role.MODERATOR: "moderation_portal:queue"}


def _job_for(request, job_id) -> Job:
    """The creator, the person depicted (their subject account), staff roles: others get 404."""
    job = get_object_or_404(Job.objects.select_related("subject", "creator", "consent"), pk=job_id)
    user = request.user
    depicted = job.subject.account_id is not None and job.subject.account_id == user.pk
    if job.creator_id != user.pk and not depicted and not can_see_every_job(user):
        raise Http404
    return job


def dashboard(request):
    if not request.user.is_authenticated:
        return landing(request)  # a stranger: what Veritalk is, sign-up, log in
    home = HOME_PAGES.get(role_of(request.user))
    if home:
        return redirect(home)
    jobs = Job.objects.filter(creator=request.user).select_related("subject", "consent", "registry_entry")[:50]
    subjects = []
    for s in subjects_for(request.user).order_by("display_name"):
        consent = s.active_consent(request.user)
        subjects.append({"subject": s, "consent": consent, "active": bool(consent and consent.is_active())})
    return render(request, "portal/dashboard.html", {"jobs": jobs, "subjects": subjects})


@heavy_request
@login_required
@require_http_methods(["GET", "POST"])
def new_job(request):
    """Every problem of a submission at once (each file checked on its own, every field);
    files that passed are kept for the next attempt (portal.stash)."""
    form = NewJobForm(request.POST or None, request.FILES or None, creator=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = accept_job(creator=request.user, subject=form.cleaned_data["subject"],
                             photo=form.cleaned_data["photo"][1], audio=form.cleaned_data["audio"][1],
                             controls=form.controls(), purpose=form.cleaned_data["purpose"],
                             channel=form.cleaned_data["channel"])
        except InputError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form.clear_kept()
            return redirect("portal:job", job_id=job.pk)
    return render(request, "portal/new_job.html", {"form": form, "kept": form.kept(), "scopes": form.scopes},
                  status=400 if form.errors else 200)


@login_required
def kept_photo(request, token):
    """The photo kept from a failed attempt of the new-video form (its preview), to its owner only."""
    kept = stash.get(request.user, token, "photo")
    if kept is None:
        raise Http404
    kind = sniff_image(kept[1], max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)  # it passed this check when kept
    return HttpResponse(kept[1], content_type=IMAGE_TYPES.get(kind, "application/octet-stream"),
                        headers={"Content-Disposition": "inline", "Cache-Control": "private, no-store"})


@login_required
def job_detail(request, job_id):
    job = _job_for(request, job_id)
    labels = {k: {"label": str(w.label), "sentence": str(w.sentence)} for k, w in VOCABULARY["job_status"].items()}
    return render(request, "portal/job.html", {"job": job, "status_labels": labels})


@login_required
@require_POST
def cancel(request, job_id):
    """The creator's Cancel button on the job page."""
    job = _job_for(request, job_id)
    try:
        cancel_job(job.pk, by=request.user)
    except CancelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The video was cancelled: nothing will be released and the uploaded files "
                                    "are deleted."))
    return redirect("portal:job", job_id=job.pk)


@login_required
def job_status(request, job_id):
    job = _job_for(request, job_id)
    return JsonResponse({"status": job.status, "progress": job.progress_percent, "final": job.is_final})


@login_required
def job_output(request, job_id):
    job = _job_for(request, job_id)
    if job.status != Job.Status.SUCCEEDED or not job.output:
        raise Http404
    path = Path(job.output.path)
    if not path.is_file():
        raise Http404
    entry = getattr(job, "registry_entry", None)
    if is_taken_down(entry):
        # A moderator took this output down: the platform no longer serves it to anyone.
        return render(request, "410.html", {"job": job, "reason": "taken_down"}, status=451)
    if entry is not None and entry.revoked and job.subject.account_id != request.user.pk:
        # The subject revoked consent: the creator no longer gets the file (the subject still may).
        return render(request, "410.html", {"job": job, "reason": "revoked", "when": entry.revoked_at}, status=410)
    download = request.GET.get("download") == "1"
    return FileResponse(open(path, "rb"), content_type="video/mp4", as_attachment=download,
                        filename=f"veritalk-{job.pk}.mp4")


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = verify_upload(upload)
        except InputError as exc:
            form.add_error("file", exc.message)
        else:
            record("verification.run", actor=request.user,
                   data={"file": upload.name[:200], "sha256": result["sha256"], "verdict": result["verdict"],
                         "via": "portal"})
    return render(request, "portal/verify.html", {"form": form, "result": result},
                  status=400 if form.errors else 200)
