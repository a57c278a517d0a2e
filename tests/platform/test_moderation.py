"""The moderator's workflow on a real database: upload or open an output, the detector
and the provenance check run as one task on the `detection` queue (a real Celery worker
on the embedded broker), then clear / flag / take down / escalate, each audited. Take
down stops the portal serving the output."""
import json

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from audit.chain import verify_chain
from audit.models import AuditEvent
from common.polling import wait_until
from moderation.models import Case, CaseAction, Takedown
from moderation.services import ModerationError, act, open_output, open_upload, run_analysis
from registry.models import RegistryEntry
from registry.services import verify_path
from tests.conftest import corpus_file
from tests.platform.conftest import queued_messages, run_command
from veritalk.celery import app as default_app


@pytest.fixture(scope="session")
def tiny_model(tiny_detector):
    """These tests check the workflow, not the detector's accuracy (tests/detection and
    bench/detector.py do): the shared one-thread tiny detector."""
    return tiny_detector


@pytest.fixture(autouse=True)
def use_tiny_model(settings, tiny_model):
    settings.VERITALK_DETECTOR_MODEL = str(tiny_model)


@pytest.fixture
def moderator(make_user):
    return make_user("mo", "moderator", vetted=False)


@pytest.fixture
def real_video():
    return corpus_file("videos/voxceleb2_00373.mp4")


def wait_case(case_id, timeout=120):
    def final():
        case = Case.objects.get(pk=case_id)
        return case if case.is_final else None

    def where():
        case = Case.objects.get(pk=case_id)
        return f"case still {case.status} ({case.stage} {case.progress}%)"
    return wait_until(final, timeout=timeout, interval=0.3, what=where)


def actions_logged(case):
    return list(AuditEvent.objects.filter(target_type="case", target_id=str(case.pk)).order_by("seq")
                .values_list("action", flat=True))


@pytest.mark.django_db(transaction=True)
def test_upload_is_analysed_by_a_worker_on_the_detection_queue(client, moderator, real_video, empty_broker):
    client.force_login(moderator)
    with open(real_video, "rb") as fh:
        r = client.post("/api/moderation/cases/", {"file": fh})
    assert r.status_code == 201, r.content
    case_id = r.json()["id"]
    assert r.json()["status"] == "queued"
    msgs = queued_messages()
    assert len(msgs) == 1
    assert json.loads(msgs[0].read_text())["properties"]["delivery_info"]["routing_key"] == "detection"
    with start_worker(default_app, pool="solo", perform_ping_check=False, queues=["detection"]):
        case = wait_case(case_id)
    assert case.status == "done" and case.error is None and case.progress == 100
    d = case.detection
    assert set(d) >= {"score", "label", "model_version", "timeline", "top_features"}
    assert d["model_version"] == "tiny-test" and len(d["timeline"]) == 6
    assert case.provenance["verdict"] == "no_provenance" and case.entry is None
    assert actions_logged(case) == ["moderation.case_opened", "moderation.analysed"]
    r = client.get(f"/api/moderation/cases/{case_id}/")
    assert r.status_code == 200 and r.json()["detection"]["label"] == d["label"]

    page = client.get(reverse("moderation_portal:case", args=[case_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<polyline" in html and "the cues that weighed most" in html and "no_provenance" in html
    assert "Authentic" not in html and "Trained on these generator families" in html


@pytest.fixture
def output(db, tmp_path, consenting_subject, portrait):
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(portrait),
                               "--audio", str(corpus_file("audio/sr_english_en.wav")), "--out",
                               str(tmp_path / "out.mp4"), "--size", "256", "--purpose", "test", "--json")
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.django_db(transaction=True)
def test_take_down_stops_the_portal_serving_the_output(client, output, moderator, creator):
    entry = RegistryEntry.objects.get(job_id=output["job"])
    url = reverse("portal:job_output", args=[output["job"]])
    client.force_login(creator)
    assert client.get(url).status_code == 200

    case = open_output(moderator, entry)
    case = run_analysis(case.pk)
    assert case.status == "done" and case.entry == entry
    assert case.provenance["verdict"] == "authentic" and case.detection["label"] in (
        "No sign of generation found", "Suspicious", "Likely generated")
    with pytest.raises(ModerationError, match="needs a note"):
        act(case, moderator, "take_down", "")
    act(case, moderator, "take_down", "impersonation report #12")

    r = client.get(url)
    assert r.status_code == 451 and b"taken down" in r.content
    r = client.get(f"/api/jobs/{output['job']}/output/")
    assert r.status_code == 451 and r.json()["code"] == "taken_down"
    assert b"taken down by moderation" in client.get(reverse("portal:job", args=[output["job"]])).content
    assert verify_path(output["output"])["registry"]["taken_down"] is True
    assert Takedown.objects.get(entry=entry).case == case
    assert Case.objects.get(pk=case.pk).decision == "taken_down"
    assert actions_logged(case) == ["moderation.case_opened", "moderation.analysed", "moderation.take_down"]
    ev = AuditEvent.objects.get(action="moderation.take_down")
    assert ev.actor == "mo" and ev.data["note"] == "impersonation report #12" and ev.data["entry"] == entry.pk
    with pytest.raises(ModerationError, match="already taken down"):
        act(case, moderator, "take_down", "again")
    assert verify_chain() == []


@pytest.mark.django_db(transaction=True)
def test_clear_flag_escalate_are_audited_and_checked(moderator, creator, real_video):
    with open(real_video, "rb") as fh:
        from django.core.files.uploadedfile import SimpleUploadedFile
        upload = SimpleUploadedFile("clip.mp4", fh.read(), content_type="video/mp4")
    case = open_upload(moderator, upload)
    with pytest.raises(ModerationError, match="not finished"):
        act(case, moderator, "flag")
    run_analysis(case.pk)
    act(case, moderator, "flag")
    act(case, moderator, "escalate", "looks generated; second opinion")
    with pytest.raises(ModerationError, match="nothing to take down"):
        act(case, moderator, "take_down", "no output of ours")
    with pytest.raises(ModerationError, match="unknown action"):
        act(case, moderator, "delete", "x")
    with pytest.raises(ModerationError, match="moderator"):
        act(case, creator, "clear", "mine")
    act(case, moderator, "clear", "reviewed: camera footage")
    case.refresh_from_db()
    assert case.decision == "cleared" and case.decided_by == moderator
    assert [a.action for a in CaseAction.objects.filter(case=case)] == ["flag", "escalate", "clear"]
    assert actions_logged(case)[-3:] == ["moderation.flag", "moderation.escalate", "moderation.clear"]
    assert verify_chain() == []


@pytest.mark.django_db
def test_bad_uploads_are_clear_errors_and_store_nothing(moderator, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    with pytest.raises(ModerationError, match="not a video"):
        open_upload(moderator, SimpleUploadedFile("x.mp4", b"hello, not a video at all"))
    with pytest.raises(ModerationError, match="empty"):
        open_upload(moderator, SimpleUploadedFile("x.mp4", b""))
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_only_moderators_reach_the_endpoints_and_pages(client, creator, moderator):
    anonymous = client.get("/api/moderation/cases/")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    client.force_login(creator)
    assert client.get("/api/moderation/cases/").status_code == 403
    assert client.post("/api/moderation/cases/", {}).status_code == 403
    assert client.get(reverse("moderation_portal:queue")).status_code == 403
    assert client.get("/api/detection/model/").status_code == 403
    client.force_login(moderator)
    r = client.get("/api/detection/model/")
    assert r.status_code == 200 and r.json()["version"].startswith("vt-det-")
    assert set(r.json()["thresholds"]) >= {"suspicious", "likely_generated"}
    assert r.json()["trained_on"] and r.json()["measured"]["tpr_at_5pct_fpr"]["low"] is not None
    r = client.get("/api/moderation/cases/")
    assert r.status_code == 200 and set(r.json()) >= {"count", "results", "next"}
    assert client.get(reverse("moderation_portal:queue")).status_code == 200
    r = client.post("/api/moderation/cases/", {"entry": 999}, content_type="application/json")
    assert r.status_code == 400 and "no registry entry" in r.content.decode()


@pytest.mark.django_db
def test_detect_command_prints_the_contract(tiny_model, real_video):
    rc, out, err = run_command("detect", str(real_video), "--json", "--model", str(tiny_model))
    assert rc == 0, err
    r = json.loads(out)
    assert set(r) >= {"score", "label", "model_version", "timeline", "top_features", "cues", "trained_on", "measured",
                      "caveat", "thresholds"}
    assert r["label"] in ("No sign of generation found", "Suspicious", "Likely generated")
    assert "does not show that the video is real" in r["caveat"]
    assert all(c["name"] and c["sentence"].endswith(".") for c in r["cues"])
    assert AuditEvent.objects.filter(action="detection.run").count() == 1
    rc, out, err = run_command("detect", str(real_video), "--json", "--model", str(tiny_model), "--language", "fr")
    fr = json.loads(out)
    assert fr["label"] in ("Aucun signe de génération trouvé", "Suspect", "Probablement généré")
    assert "ne montre pas que la vidéo est réelle" in fr["caveat"]
    rc, out, err = run_command("detect", str(corpus_file("audio/sr_english_en.wav")), "--json", "--model",
                               str(tiny_model))
    assert rc == 2 and "no video stream" in err


@pytest.mark.django_db(transaction=True)
def test_an_analysis_whose_worker_died_is_taken_again_a_live_one_is_not(moderator, real_video):
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    with open(real_video, "rb") as fh:
        case = open_upload(moderator, SimpleUploadedFile("clip.mp4", fh.read()))
    Case.objects.filter(pk=case.pk).update(status="running", started_at=timezone.now())
    assert run_analysis(case.pk).status == "running"          # a duplicate delivery leaves it alone
    Case.objects.filter(pk=case.pk).update(started_at=timezone.now() - timedelta(hours=1))
    done = run_analysis(case.pk)                                  # its worker died: redelivered, taken
    assert done.status == "done" and done.detection is not None


def test_close_thresholds_keep_their_labels_apart_on_the_score_plot():
    """Suspicious and Likely generated a few hundredths apart: the lower line's label goes
    under its line instead of over the other's; far apart, both sit above their lines."""
    from portal.moderation_views import score_plot
    timeline = [{"t": i, "score": 0.5} for i in range(5)]
    close = score_plot({"timeline": timeline, "thresholds": {"suspicious": 0.682, "likely_generated": 0.737}})
    far = score_plot({"timeline": timeline, "thresholds": {"suspicious": 0.4, "likely_generated": 0.8}})
    by_key = {line["key"]: line for line in close["lines"]}
    assert by_key["likely_generated"]["dy"] < 0 < by_key["suspicious"]["dy"]
    assert by_key["suspicious"]["y"] > by_key["likely_generated"]["y"]
    assert all(line["dy"] < 0 for line in far["lines"])
