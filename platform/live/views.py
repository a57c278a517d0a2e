"""Portal pages for live sessions: open one, stream it, and (moderators) take one down."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from generation.errors import InputError

from . import roles, services
from .forms import NewLiveForm, TakeDownForm
from .models import LiveSession


@login_required
@require_http_methods(["GET", "POST"])
def new_session(request):
    if not roles.can_start(request.user):
        raise PermissionDenied
    form = NewLiveForm(request.POST or None, request.FILES or None, creator=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.start_session(creator=request.user, subject=form.cleaned_data["subject"],
                                             photo=form.cleaned_data["photo"], controls=form.controls(),
                                             channel=form.cleaned_data["channel"])
        except InputError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except services.LiveError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("live:session", session_id=session.pk)
    sessions = LiveSession.objects.filter(creator=request.user).select_related("subject")[:20]
    return render(request, "live/new.html", {"form": form, "sessions": sessions,
                                             "max_minutes": round(settings.VERITALK_LIVE_MAX_SECONDS / 60)},
                  status=400 if form.errors else 200)


# What the session page says, by the `reason` of the stream's `ended` message (and its states).
PAGE_MESSAGES = {
    "consent_revoked": gettext_lazy("The subject revoked their consent: "
                                    "the session was stopped and its recording discarded."),
    "consent_expired": gettext_lazy("The subject's consent expired: "
                                    "the session was stopped and its recording discarded."),
    "taken_down": gettext_lazy("A moderator took this session down: it was stopped and its recording withheld."),
    "policy": gettext_lazy("The policy no longer allows this session: it was stopped and its recording discarded."),
    "stopped": gettext_lazy("The session ended. Its recording was signed and registered."),
    "disconnected": gettext_lazy("The session ended. Its recording was signed and registered."),
    "max_length": gettext_lazy("The session reached its maximum length and ended. "
                               "Its recording was signed and registered."),
    "voice_too_fast": gettext_lazy("The voice arrived faster than real time, so the session ended."),
    "engine_error": gettext_lazy("The live engine failed and the session ended."),
    "no_frames": gettext_lazy("The session ended before any frame was streamed."),
    "busy": gettext_lazy("The live server is full; try again in a moment."),
    "not_ready": gettext_lazy("This session was already used; open a new one."),
    "not_found": gettext_lazy("This session is not yours to stream."),
    "live": gettext_lazy("Live"),
    "connecting": gettext_lazy("Connecting…"),
    "signing": gettext_lazy("Ending: signing the recording…"),
    "unsupported": gettext_lazy("This browser cannot play the live stream "
                                "(Media Source Extensions with H.264 are needed)."),
    "no_file": gettext_lazy("Choose an audio file first."),
    "no_rate": gettext_lazy("The browser's audio runs at a sample rate the server does not take (16 or 48 kHz)."),
}


@login_required
def session_page(request, session_id):
    session = get_object_or_404(LiveSession.objects.select_related("job", "subject"), pk=session_id)
    if not roles.can_watch(request.user, session):
        raise Http404
    return render(request, "live/session.html", {
        "session": session, "messages_for_page": {k: str(v) for k, v in PAGE_MESSAGES.items()},
        "streamable": session.status == LiveSession.Status.READY and session.creator_id == request.user.pk})


@login_required
def moderation(request):
    if not roles.can_moderate(request.user):
        raise PermissionDenied
    active = LiveSession.objects.filter(status__in=LiveSession.ACTIVE).select_related("creator", "subject")
    recent = LiveSession.objects.exclude(status__in=LiveSession.ACTIVE).select_related("creator", "subject")[:20]
    return render(request, "live/moderation.html", {"active": active, "recent": recent, "form": TakeDownForm()})


@login_required
@require_POST
def take_down(request, session_id):
    if not roles.can_moderate(request.user):
        raise PermissionDenied
    session = get_object_or_404(LiveSession, pk=session_id)
    form = TakeDownForm(request.POST)
    if form.is_valid():
        try:
            services.take_down(session, by=request.user, note=form.cleaned_data["note"])
            messages.success(request, _("The live session was taken down."))
        except services.LiveError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("A take-down needs a note saying why."))
    return redirect("live:moderation")


@login_required
@require_POST
def stop(request, session_id):
    session = get_object_or_404(LiveSession, pk=session_id, creator=request.user)
    try:
        services.request_stop(session, by=request.user)
    except services.LiveError as exc:
        messages.error(request, exc.message)
    return redirect("live:session", session_id=session.pk)
