"""Words, not codes: every code a person meets (verdicts, job and case states, moderation
actions and decisions, purposes, channels, policy rules and every outcome of every policy
check) has a label and a sentence in English and French, from one mapping (portal.words);
refusals read back from the policy's text become the portal's sentences; controls show as
"Label: value", dates in the reader's language and time zone, sizes in MB, registry ids
where moderators need them and never a consent number."""
import re
import zoneinfo
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from consent.policy import current_policy
from jobs.models import Job
from moderation.models import Case
from moderation.services import ACTIONS
from policies.checks import CHECKS
from portal.reasons import explain
from portal.templatetags.words import controls, mb, when
from provenance.verify import VERDICT_TEXT
from veritalk import words


def test_every_code_has_a_label_and_a_sentence_in_both_languages():
    policy = current_policy()
    needed = {
        "verdict": set(VERDICT_TEXT), "job_status": set(Job.Status.values), "case_status": set(Case.Status.values),
        "case_decision": set(Case.Decision.values), "action": set(ACTIONS),
        "purpose": set(policy.param("allowed_purpose", "purposes", [])),
        "channel": set(policy.param("consent_in_scope", "channels", [])), "rule": {r.id for r in policy.rules},
        "job_error": {"consent_revoked", "internal_error", "no_face", "multiple_faces"},
    }
    for kind, codes in needed.items():
        assert codes and codes <= set(words.VOCABULARY[kind]), (kind, codes - set(words.VOCABULARY[kind]))
        for code in codes:
            w = words.word(kind, code)
            with translation.override("en"):
                english = str(w.label), str(w.sentence)
            with translation.override("fr"):
                french = str(w.label), str(w.sentence)
            assert all(english) and english[1] != french[1], (kind, code, "no sentence, or not translated")
    outcomes = {(check.fn.__name__, o) for check in CHECKS.values() for o in check.outcomes}
    assert outcomes == set(words.REASONS), outcomes ^ set(words.REASONS)


def test_a_refusal_reads_as_the_portals_sentence_in_the_readers_language():
    decision = {"allowed": False, "policy_version": "2026.12-1",
                "rules": ["consent-active", "consent-scope", "input-limits"],
                "reasons": ["Consent #6 from subject 'Bea' was revoked on 2026-12-05T21:13:07.123456+00:00.",
                            "Subject 'Bea' did not consent to videos for 'marketing' (consent #6 covers: "
                            "education, demo).",
                            "The voice track is 41943041 bytes; the policy allows at most 41943040 bytes."]}
    with translation.override("en"):
        shown = explain(decision)
    assert [r["matched"] for r in shown] == [True, True, True]
    assert [r["label"] for r in shown] == ["Active consent", "Within the consent", "Input limits"]
    assert shown[0]["sentence"] == "Bea revoked their consent on Dec. 5, 2026, 9:13 p.m."
    assert shown[1]["sentence"] == ("Bea did not consent to videos for “Marketing” (the consent covers: "
                                    "Education, Demonstration).")
    assert shown[2]["sentence"] == "The voice track is 40 MB; the policy allows at most 40 MB."
    with translation.override("fr"):
        french = explain(decision)
    assert french[0]["sentence"] == "Bea a révoqué son consentement le 5 décembre 2026 21:13."
    assert "Éducation, Démonstration" in french[1]["sentence"]
    text = " ".join(r["sentence"] for r in shown + french)
    assert "#6" not in text and "2026-12-05" not in text and "consent-active" not in text


def test_an_unknown_policy_text_is_shown_as_it_is():
    shown = explain({"allowed": False, "rules": ["consent-active"], "reasons": ["Some text from another policy."]})
    assert shown == [{"rule": "consent-active", "label": "Active consent", "sentence": "Some text from another policy.",
                      "matched": False}]


def test_controls_dates_and_sizes_in_words():
    stored = {"emotion": "happy", "expression_scale": 1.5, "gaze": [0.25, -0.5], "size": 256, "lipsync": "auto",
              "motion": "learned"}
    with translation.override("en"):
        assert controls(stored) == [("Emotion", "Happy"), ("Expression scale", "1.5"),
                                    ("Gaze", "left–right 0.25, down–up -0.5"), ("Size", "256 x 256"),
                                    ("Motion planner", "Learned (from real videos)"), ("Lip sync", "Automatic")]
        assert mb(41_943_040) == "40 MB" and mb(15_000_000) == "14.3 MB"
    with translation.override("fr"):
        assert dict(controls(stored))["Regard"] == "gauche–droite 0,25 ; bas–haut -0,5"
        assert mb(15_000_000) == "14,3 Mo"
        moment = datetime(2026, 12, 5, 21, 13, 7, 123456, tzinfo=dt_timezone.utc)
        with timezone.override("Europe/Paris"):
            assert when(moment) == "5 décembre 2026 22:13"      # the reader's zone, no seconds
        assert when(moment.isoformat()) == "5 décembre 2026 21:13"


@pytest.mark.django_db
def test_verification_shows_words_and_the_registry_id_never_a_consent_number():
    result = {"verdict": "revoked", "summary": VERDICT_TEXT["revoked"], "sha256": "ab" * 32,
              "c2pa": {"state": "Trusted", "issuer": "Veritalk", "actions": [], "errors": []},
              "watermark": {"found": True, "payload": 123, "confidence": 0.97},
              "registry": {"match": True, "job": "8212f08e", "consent": 6, "revoked": True, "registry_id": 42,
                           "matched_by": "watermark"}}
    for lang, expected in (("en", ["Consent revoked", "Registry id <strong>42</strong>", "found by its watermark",
                                   "Trusted"]),
                           ("fr", ["Consentement révoqué", "Identifiant de registre <strong>42</strong>",
                                   "trouvé par son tatouage", "De confiance"])):
        with translation.override(lang):
            html = render_to_string("portal/_verification.html", {"result": result})
        for text in expected:
            assert text in html, (lang, text)
        assert "#6" not in html and ">revoked<" not in html and ">Trusted<" not in html.replace(">Trusted <", "")


@pytest.mark.django_db
def test_job_page_in_french_and_the_readers_time_zone(client, creator, subject, portrait, short_speech):
    client.force_login(creator)
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = client.post(reverse("portal:new_job"), {"subject": subject.pk, "photo": p, "audio": a, "purpose": "test",
                                                    "expression_scale": "1.5", "size": "256"})
    job = Job.objects.get()
    assert r.status_code == 302 and job.status == "denied"
    client.cookies["tz"] = "Asia/Kolkata"
    page = client.get(reverse("portal:job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Refusé par la politique" in page and "Bea ne vous a pas donné son consentement." in page
    assert re.search(r"<li>[^<=]+ : 1,5</li>", page)
    assert "expression_scale=" not in page and "consent-active" not in page
    local = job.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert f"{local:%H:%M}" in page and job.created_at.isoformat()[:19] not in page
    client.cookies["tz"] = "Not/AZone"
    assert client.get(reverse("portal:job", args=[job.pk])).status_code == 200   # an unknown zone is ignored
