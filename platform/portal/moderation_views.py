"""Moderator pages: the case queue, uploading a file or opening one of our outputs,
a case with its per-second score plot, explanation and provenance, and the actions."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import MODERATORS_ONLY, can_moderate, require
from moderation.models import Case
from moderation.services import ACTIONS, ModerationError, act, detection_for_display, open_output, open_upload
from registry.models import RegistryEntry

PLOT_W, PLOT_H, PAD = 640, 180, 28
LABEL_GAP = 14     # px: closer threshold lines would print their labels over each other
THRESHOLD_LABELS = {"suspicious": _("Suspicious"), "likely_generated": _("Likely generated")}
ACTION_LABELS = {"clear": _("Clear"), "flag": _("Flag"), "take_down": _("Take down"), "escalate": _("Escalate")}
# Case states and decisions as shown (the model's labels, for the translation catalogue)
CASE_LABELS = (_("Queued"), _("Analysing"), _("Analysed"), _("Analysis failed"), _("Open"), _("Cleared"),
               _("Flagged"), _("Taken down"), _("Escalated"))


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("A video (MP4, MOV, WebM) to score and check for provenance."))


class OpenOutputForm(forms.Form):
    entry = forms.IntegerField(min_value=1, label=_("Registry id"), help_text=_("One of our outputs, by registry id."))


class ActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=[(a, ACTION_LABELS.get(a, a)) for a in ACTIONS])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           label=_("Note"), help_text=_("Why. Needed to clear, take down or escalate."))


@login_required
@require_http_methods(["GET", "POST"])
def queue(request):
    require(request.user, can_moderate, MODERATORS_ONLY)
    upload = UploadForm(request.POST if "upload" in request.POST else None,
                        request.FILES if "upload" in request.POST else None)
    opener = OpenOutputForm(request.POST if "open" in request.POST else None)
    if request.method == "POST":
        try:
            if "upload" in request.POST and upload.is_valid():
                case = open_upload(request.user, upload.cleaned_data["file"])
                return redirect("moderation_portal:case", case_id=case.pk)
            if "open" in request.POST and opener.is_valid():
                entry = RegistryEntry.objects.filter(pk=opener.cleaned_data["entry"]).first()
                if entry is None:
                    opener.add_error("entry", f"no registry entry {opener.cleaned_data['entry']}")
                else:
                    case = open_output(request.user, entry)
                    return redirect("moderation_portal:case", case_id=case.pk)
        except ModerationError as exc:
            form = upload if "upload" in request.POST else opener
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    decision = request.GET.get("decision", "")
    cases = Case.objects.select_related("created_by", "entry").order_by("-created_at")
    if decision:
        cases = cases.filter(decision=decision)
    flagged = Case.objects.filter(decision__in=(Case.Decision.FLAGGED, Case.Decision.ESCALATED)).count()
    status = 400 if (upload.errors or opener.errors) else 200
    cases = list(cases[:100])
    for c in cases:
        c.shown = detection_for_display(c.detection)   # the label in words, in the page's language
    return render(request, "moderation/queue.html", {
        "cases": cases, "upload": upload, "opener": opener, "decision": decision,
        "decisions": Case.Decision.choices, "flagged": flagged}, status=status)


def score_plot(detection: dict | None) -> dict | None:
    """Coordinates for the inline SVG of the per-second scores and the label thresholds."""
    if not detection or not detection.get("timeline"):
        return None
    tl = detection["timeline"]
    n = len(tl)
    iw, ih = PLOT_W - 2 * PAD, PLOT_H - 2 * PAD

    def x(i):
        return PAD + (iw * (i + 0.5) / n)

    def y(v):
        return PAD + ih * (1 - float(v))
    points = " ".join(f"{x(i):.1f},{y(p['score']):.1f}" for i, p in enumerate(tl))
    th = detection.get("thresholds") or {}
    lines = sorted(({"y": round(y(v), 1), "key": k, "label": THRESHOLD_LABELS.get(k, k), "value": v, "dy": -3}
                    for k, v in th.items() if isinstance(v, (int, float))), key=lambda line: line["value"])
    for low, high in zip(lines, lines[1:]):
        if low["y"] - high["y"] < LABEL_GAP:   # close thresholds: the lower one's label goes under its line
            low["dy"] = 11
    ticks = [{"x": round(x(i), 1), "t": p["t"]} for i, p in enumerate(tl) if n <= 20 or i % max(1, n // 10) == 0]
    dots = [{"x": round(x(i), 1), "y": round(y(p["score"]), 1), "t": p["t"], "score": p["score"]}
            for i, p in enumerate(tl)]
    return {"w": PLOT_W, "h": PLOT_H, "pad": PAD, "x1": PLOT_W - PAD, "y1": PLOT_H - PAD, "points": points,
            "lines": lines, "ticks": ticks, "dots": dots, "y_mid": round(y(0.5), 1)}


def _case_for(request, case_id) -> Case:
    require(request.user, can_moderate, MODERATORS_ONLY)
    return get_object_or_404(Case.objects.select_related("entry__job", "created_by", "decided_by"), pk=case_id)


@login_required
def case_detail(request, case_id):
    case = _case_for(request, case_id)
    detection = detection_for_display(case.detection)
    return render(request, "moderation/case.html", {
        "case": case, "detection": detection, "plot": score_plot(detection), "form": ActionForm(),
        "taken_down": bool(case.entry_id and hasattr(case.entry, "takedown")),
        "actions": case.actions.select_related("actor")})


@login_required
def case_status(request, case_id):
    case = _case_for(request, case_id)
    return JsonResponse({"status": case.status, "stage": case.stage, "progress": case.progress,
                         "final": case.is_final})


@login_required
@require_POST
def case_action(request, case_id):
    case = _case_for(request, case_id)
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            act(case, request.user, form.cleaned_data["action"], form.cleaned_data["note"])
        except ModerationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Decision recorded: %(action)s.")
                             % {"action": ACTION_LABELS.get(form.cleaned_data["action"], form.cleaned_data["action"])})
            return redirect("moderation_portal:case", case_id=case.pk)
    case.refresh_from_db()
    detection = detection_for_display(case.detection)
    return render(request, "moderation/case.html", {
        "case": case, "detection": detection, "plot": score_plot(detection), "form": form,
        "taken_down": bool(case.entry_id and hasattr(case.entry, "takedown")),
        "actions": case.actions.select_related("actor")}, status=400)
