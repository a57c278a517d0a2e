"""The moderator's workflow: open a case, analyse it (detector + provenance, as one
Celery task on the detection queue), decide. Every mutation is audited in the same
transaction that makes it (audit.chain.atomic)."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.permissions import can_moderate
from audit.chain import atomic as audit_atomic
from audit.chain import record
from common.errors import UserError
from common.files import sha256_stream
from common.units import megabytes
from detection.explain import LABEL_TEXT, LIKELY_GENERATED, LOW_SCORE_CAVEAT, NO_SIGN, SUSPICIOUS, cue
from registry.models import RegistryEntry
from registry.services import verify_path

from .models import Case, CaseAction, Takedown

log = logging.getLogger(__name__)

ACTIONS = {"clear": Case.Decision.CLEARED, "flag": Case.Decision.FLAGGED, "take_down": Case.Decision.TAKEN_DOWN,
           "escalate": Case.Decision.ESCALATED}
MAX_UPLOAD_BYTES = 500 * 1024 * 1024
ANALYSIS_LEASE_SECONDS = 15 * 60   # an analysis takes seconds; one running longer lost its worker
VIDEO_MAGIC = (b"ftyp", b"moov", b"mdat", b"free", b"wide")
ANALYSE_TASK = "moderation.analyse"   # moderation.tasks.analyse_case, sent by name


class ModerationError(UserError):
    """A moderation step refused (who may moderate, what a case allows)."""


def _require_moderator(user) -> None:
    if not can_moderate(user):
        raise ModerationError(gettext_noop("only a moderator or an admin can do this"), code="forbidden")


def case_path(case: Case) -> Path | None:
    if case.file:
        return Path(case.file.path)
    if case.entry_id and case.entry.job.output:
        return Path(case.entry.job.output.path)
    return None


def open_upload(user, upload, *, name: str | None = None) -> Case:
    """A case for an uploaded file: stored, hashed, queued for analysis."""
    _require_moderator(user)
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ModerationError(gettext_noop("the file is empty"), code="empty_file", field="file")
    if size > MAX_UPLOAD_BYTES:
        raise ModerationError(gettext_noop("the file is larger than the limit of %(limit)s MB"),
                              code="file_too_large", field="file", params={"limit": megabytes(MAX_UPLOAD_BYTES)})
    upload.seek(0)
    head = upload.read(12)
    upload.seek(0)
    if head[4:8] not in VIDEO_MAGIC and head[:4] != b"\x1aE\xdf\xa3":
        raise ModerationError(gettext_noop("the file is not a video in a supported format (MP4, MOV, WebM/MKV)"),
                              code="unsupported_format", field="file")
    sha256 = sha256_stream(upload)
    upload.seek(0)
    name = (name or getattr(upload, "name", "") or "upload.mp4")[:200]
    with audit_atomic():
        case = Case(source=Case.Source.UPLOAD, file_name=Path(name).name, sha256=sha256, size=size,
                    created_by=user)
        case.save()
        case.file.save("upload.mp4", File(upload), save=True)
        record("moderation.case_opened", actor=user, target=case,
               data={"source": "upload", "file": case.file_name, "sha256": case.sha256, "size": size})
        _dispatch_on_commit(case)
    return case


def open_output(user, entry: RegistryEntry) -> Case:
    """A case for one of our own outputs (a flagged one, or one a moderator picked)."""
    _require_moderator(user)
    if entry.state != RegistryEntry.State.ISSUED or not entry.job.output:
        raise ModerationError(gettext_noop("registry entry %(id)s has no issued output to analyse"), code="no_output",
                              field="entry", params={"id": entry.pk})
    with audit_atomic():
        case = Case.objects.create(source=Case.Source.OUTPUT, entry=entry, file_name=f"registry-{entry.pk}.mp4",
                                   sha256=entry.output_sha256, created_by=user)
        record("moderation.case_opened", actor=user, target=case, data={"source": "output", "entry": entry.pk})
        _dispatch_on_commit(case)
    return case


def _dispatch_on_commit(case: Case) -> None:
    transaction.on_commit(lambda: dispatch(case.pk))


def dispatch(case_id) -> None:
    current_app.send_task(ANALYSE_TASK, (str(case_id),), queue=settings.VERITALK_DETECTION_QUEUE, retry=True)


def _progress(case_id, stage: str, fraction: float) -> None:
    Case.objects.filter(pk=case_id).update(stage=stage, progress=max(0, min(100, int(round(fraction * 100)))))


def run_analysis(case_id) -> Case:
    """Provenance first (quick), then the detector. A failing half does not lose the other."""
    # Queued, failed, or running under a worker that died (the message comes back with
    # acks_late): take it. A case another live worker holds is left alone.
    stale = timezone.now() - timedelta(seconds=ANALYSIS_LEASE_SECONDS)
    updated = Case.objects.filter(Q(status__in=(Case.Status.QUEUED, Case.Status.FAILED))
                                  | Q(status=Case.Status.RUNNING, started_at__lt=stale), pk=case_id).update(
        status=Case.Status.RUNNING, stage="provenance", progress=2, error=None, started_at=timezone.now())
    case = Case.objects.select_related("entry__job").get(pk=case_id)
    if not updated:
        return case   # a duplicate delivery: another worker has it, or it is done
    path = case_path(case)
    errors = {}
    provenance = detection = None
    if path is None or not path.is_file():
        errors["file"] = "the file of this case is missing from storage"
    else:
        try:
            provenance = verify_path(path)
        except Exception as exc:  # reported on the case; the detector still runs
            log.exception("provenance check failed for case %s", case_id)
            errors["provenance"] = f"the provenance check failed: {exc}"
        _progress(case_id, "detector", 0.1)
        try:
            from detection.score import default_detector, score_file  # noqa: PLC0415 - heavy (scikit-learn): workers only
            detector = default_detector(getattr(settings, "VERITALK_DETECTOR_MODEL", None) or _default_model())
            detection = score_file(path, detector, progress=lambda stage, f: _progress(case_id, stage, 0.1 + 0.85 * f))
        except Exception as exc:
            log.warning("detector failed for case %s: %s", case_id, exc)
            errors["detection"] = str(getattr(exc, "message", None) or exc)
    entry = case.entry
    match = (provenance or {}).get("registry") or {}
    if entry is None and match.get("match") and match.get("job"):
        entry = RegistryEntry.objects.filter(job_id=match["job"]).first()
    with audit_atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        case.provenance, case.detection = provenance, detection
        case.entry = entry
        case.error = errors or None
        case.status = Case.Status.FAILED if (detection is None and provenance is None) else Case.Status.DONE
        case.stage, case.progress, case.analysed_at = "", 100, timezone.now()
        case.save()
        record("moderation.analysed", target=case,
               data={"status": case.status, "score": (detection or {}).get("score"),
                     "label": (detection or {}).get("label"), "model_version": (detection or {}).get("model_version"),
                     "verdict": (provenance or {}).get("verdict"), "entry": entry.pk if entry else None,
                     "errors": sorted(errors)})
    return case


def act(case: Case, user, action: str, note: str = "") -> Case:
    """clear, flag, take_down or escalate; audited with the note. Take down stops the
    platform serving the output the case concerns."""
    _require_moderator(user)
    if action not in ACTIONS:
        raise ModerationError(gettext_noop("unknown action '%(action)s'; one of %(actions)s"), code="unknown_action",
                              field="action", params={"action": action, "actions": ", ".join(ACTIONS)})
    note = (note or "").strip()
    if action in ("take_down", "escalate", "clear") and not note:
        raise ModerationError(gettext_noop("'%(action)s' needs a note saying why"), code="note_required",
                              field="note", params={"action": action.replace("_", " ")})
    with audit_atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("entry").get(pk=case.pk)
        if not case.is_final:
            raise ModerationError(gettext_noop("the analysis of this case has not finished yet"), code="not_analysed")
        data = {"action": action, "note": note, "from": case.decision,
                "score": (case.detection or {}).get("score"), "label": (case.detection or {}).get("label")}
        if action == "take_down":
            if case.entry is None:
                raise ModerationError(gettext_noop("this file matches none of our outputs, so there is nothing to take "
                                                   "down; flag or escalate it instead"), code="no_output")
            if hasattr(case.entry, "takedown"):
                raise ModerationError(gettext_noop("registry entry %(id)s is already taken down"),
                                      code="already_taken_down", params={"id": case.entry.pk})
            Takedown.objects.create(entry=case.entry, case=case, by=user, note=note)
            data["entry"] = case.entry.pk
            data["job"] = str(case.entry.job_id)
        case.decision, case.decided_by, case.decided_at = ACTIONS[action], user, timezone.now()
        if note:
            case.note = note
        case.save(update_fields=["decision", "decided_by", "decided_at", "note"])
        CaseAction.objects.create(case=case, action=action, note=note, actor=user)
        record(f"moderation.{action}", actor=user, target=case, data=data)
    return case


# Labels stored by cases analysed before the honest labels (never shown as they were).
_OLD_LABELS = {"Authentic": NO_SIGN, "Suspicious": SUSPICIOUS, "Synthetic": LIKELY_GENERATED}


def detection_for_display(detection: dict | None) -> dict | None:
    """A case's detector result as a moderator reads it, in the active language: the label,
    the cue groups in words, what the model was trained on and measured to do, and what a
    low score does not mean. Results stored before the labels and cues were added are
    shown with the new label and no cues."""
    if not detection:
        return detection
    d = dict(detection)
    key = d.get("label_key") or _OLD_LABELS.get(d.get("label"), None)
    th = dict(d.get("thresholds") or {})
    if "synthetic" in th:
        th.setdefault("likely_generated", th.pop("synthetic"))
    if key is None and isinstance(d.get("score"), (int, float)):
        key = LIKELY_GENERATED if d["score"] >= th.get("likely_generated", 0.5) else (
            SUSPICIOUS if d["score"] >= th.get("suspicious", 0.5) else NO_SIGN)
    d["thresholds"] = th
    d["label_key"] = key
    d["label"] = gettext(LABEL_TEXT[key]) if key in LABEL_TEXT else d.get("label")
    cues = []
    for c in d.get("cues") or []:
        words = cue(c.get("group", ""), c.get("effect", 0.0))
        cues.append({**c, "name": gettext(words["name"]), "sentence": gettext(words["sentence"])})
    d["cues"] = cues
    d["caveat"] = gettext(LOW_SCORE_CAVEAT)
    d["trained_on"] = [{**f, "name": gettext(f.get("name", ""))} for f in d.get("trained_on") or []]
    d.setdefault("measured", None)
    return d


def _default_model():
    from detection.model import DEFAULT_MODEL  # noqa: PLC0415 - heavy (scikit-learn): workers only
    return DEFAULT_MODEL


def is_taken_down(entry) -> bool:
    return entry is not None and Takedown.objects.filter(entry=entry).exists()
