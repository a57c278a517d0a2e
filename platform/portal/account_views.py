"""The public side of the portal: the landing page a stranger sees at `/`, creator
sign-up and the vetting request. Password resets are Django's own views (veritalk.urls)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import is_creator, require
from accounts.services import VettingError, request_vetting
from audit.chain import record

from .account_forms import CreatorSignupForm, VettingRequestForm


def landing(request):
    """What Veritalk does and for whom, with the ways in."""
    return render(request, "portal/landing.html")


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    form = CreatorSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        record("account.created", actor=user, target=user, data={"username": user.username, "via": "signup"})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your account is open. Ask to be vetted to start making videos."))
        return redirect("account:vetting_request")
    return render(request, "portal/signup.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def vetting_request(request):
    require(request.user, is_creator, _("Only creator accounts are vetted."))
    form = VettingRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_vetting(request.user, message=form.cleaned_data["message"])
        except VettingError as exc:
            form.add_error("message" if exc.field == "message" else None, exc.message)
        else:
            messages.success(request, _("Your request was sent. You will get an e-mail when an admin has "
                                        "decided."))
            return redirect("account:vetting_request")
    requests = request.user.vetting_requests.order_by("-created_at")
    return render(request, "portal/vetting_request.html",
                  {"form": form, "requests": requests, "pending": request.user.pending_vetting_request()},
                  status=400 if form.errors else 200)
