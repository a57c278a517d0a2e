"""Accessibility: axe-core (axe-playwright-python, the axe-core it bundles; nothing is
fetched) finds no serious or critical violation on the main pages of every role, in
English and in French, where the header breaks no link over two lines; and the
new-video form is usable by keyboard alone. Each page is
also saved as a screenshot (en and fr) under tests/browser/artifacts/portal/, or under
$VERITALK_SCREENSHOTS (docs/img/portal/ holds the committed set)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.platform.conftest import (  # noqa: F401
    creator,
    portal_world,
    run_command,
    subject,
    tiny_detector,
)

SERIOUS = {"serious", "critical"}
SHOTS = Path(os.environ.get("VERITALK_SCREENSHOTS") or ARTIFACTS / "portal")


def main_pages(w) -> dict[str, list[tuple[str, str]]]:
    """(name, url) of each role's main pages; None is the visitor."""
    made, denied = w["made"], w["denied"]
    return {
        "visitor": [("landing", "/"), ("sign-up", "/signup/"), ("password-reset", "/password-reset/"),
                    ("login", "/login/"), ("invitation", f"/consent/invitations/{w['token']}/")],
        "creator": [("dashboard", "/"), ("new-video", "/jobs/new/"), ("video", f"/jobs/{made.pk}/"),
                    ("refused", f"/jobs/{denied.pk}/"), ("invite", "/subjects/invite/"), ("live", "/live/")],
        "subject": [("consents", "/me/"), ("grant", "/me/consents/new/"), ("enrol", "/me/enrol/"),
                    ("videos", "/me/videos/"), ("revoke", f"/me/consents/{w['consent'].pk}/revoke/")],
        "moderator": [("queue", "/moderation/"), ("case", f"/moderation/cases/{w['case'].pk}/"),
                      ("vetting", "/moderation/vetting/"), ("elevation", "/moderation/elevation/"),
                      ("live", "/live/moderation/")],
        "auditor": [("verify", "/verify/")],
    }


def sign_in(page, user) -> None:
    """log_in, in whichever language the page is."""
    page.goto("/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(user.raw_password)
    with page.expect_navigation():
        page.locator("#id_password").press("Enter")


def header_lines(page) -> dict:
    """The header's links, account and language switcher each on one line (none broken over
    two), and the navigation in one row at this width (1100 px)."""
    return page.evaluate("""() => {
        const items = [...document.querySelectorAll("header nav a, header .account > *, header .lang > *")];
        const links = [...document.querySelectorAll("header nav a")];
        const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
        return {broken: items.filter(e => e.getClientRects().length > 1).map(e => e.textContent.trim()),
                rows: Math.max(tops.size, 1)};
    }""")


def axe_serious(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in SERIOUS]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_axe_finds_no_serious_violation_on_any_roles_main_pages(new_page, portal_world):
    pytest.importorskip("axe_playwright_python", reason="pip install -e '.[dev]' (axe-playwright-python)")
    w = portal_world
    users = {"visitor": None, "creator": w["creator"], "subject": w["subject"], "moderator": w["moderator"],
             "auditor": w["auditor"]}
    SHOTS.mkdir(parents=True, exist_ok=True)
    found, seen = {}, 0
    for lang, locale in (("en", "en-GB"), ("fr", "fr-FR")):
        for role, pages in main_pages(w).items():
            page = new_page(f"{role}-{lang}", locale=locale)
            if users[role] is not None:
                sign_in(page, users[role])
            for name, url in pages:
                page.goto(url)
                page.wait_for_load_state("networkidle")
                assert page.locator("html").get_attribute("lang") == lang, (role, name, lang)
                violations = axe_serious(page)
                seen += 1
                if violations:
                    found[f"{role} {name} ({lang})"] = violations
                assert header_lines(page) == {"broken": [], "rows": 1}, (role, name, lang)
                page.screenshot(path=str(SHOTS / f"{role}-{name}-{lang}.png"), full_page=True)
            if role == "auditor":   # the result of a verification, too
                page.get_by_label("Fichier" if lang == "fr" else "File").set_input_files(str(w["made"].output.path))
                page.get_by_role("button", name="Vérifier" if lang == "fr" else "Verify").click()
                page.locator("#verdict").wait_for(timeout=60_000)
                violations = axe_serious(page)
                seen += 1
                if violations:
                    found[f"auditor verified ({lang})"] = violations
                page.screenshot(path=str(SHOTS / f"auditor-verified-{lang}.png"), full_page=True)
            assert page.js_errors == [], (role, lang, page.js_errors)
    (ARTIFACTS / "axe.json").write_text(json.dumps(found, indent=1))
    assert seen >= 40
    assert found == {}, json.dumps(found, indent=1)


def test_the_axe_check_finds_what_it_should(new_page):
    """The check itself: a form field without a label and an image without text are found."""
    pytest.importorskip("axe_playwright_python", reason="pip install -e '.[dev]' (axe-playwright-python)")
    page = new_page("axe-self-check")
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
                     '<img src="data:,"><input type="text"></main></body></html>')
    assert {v["id"] for v in axe_serious(page)} >= {"image-alt", "label"}


@pytest.mark.django_db(transaction=True)
def test_the_new_video_form_works_by_keyboard_alone(new_page, creator, subject):
    from consent.services import grant_consent
    grant_consent(subject=subject, creator=creator, purposes=["test", "education"], statement="yes")
    page = new_page("keyboard")
    log_in(page, creator)
    page.goto("/jobs/new/")
    page.locator("h1").click()   # start from the page, then only the keyboard
    wanted = {"id_subject", "id_photo", "id_audio", "id_purpose", "id_channel", "id_emotion", "id_expression_scale",
              "id_head_motion", "id_gaze_0", "id_gaze_1", "id_blink_rate", "id_seed", "id_size", "id_backend",
              "id_motion", "id_lipsync"}
    reached, submit = [], False
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => ({id: document.activeElement.id, tag: document.activeElement.tagName, "
                                "text: document.activeElement.textContent.trim(), "
                                "outline: getComputedStyle(document.activeElement).outlineStyle})")
        if focused["id"]:
            reached.append(focused["id"])
        if focused["tag"] == "BUTTON" and focused["text"] == "Generate":
            assert focused["outline"] not in ("none", "")   # a visible focus ring
            submit = True
            break
    assert submit and wanted <= set(reached), sorted(wanted - set(reached))
    order = [i for i in reached if i in wanted]
    assert order.index("id_subject") < order.index("id_photo") < order.index("id_purpose") < order.index("id_lipsync")
    # Operate the controls with the keyboard: a subject, a purpose, a slider and its shown value.
    page.locator("#id_subject").focus()
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_subject").input_value() == str(subject.pk)
    page.locator("#id_purpose").focus()
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_purpose").input_value() != ""
    page.locator("#id_expression_scale").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    assert page.locator("#id_expression_scale").input_value() == "1.2"
    assert page.inner_text("#id_expression_scale-value") == "1.2"
    page.locator("#id_gaze_0").focus()
    page.keyboard.press("ArrowLeft")
    assert page.locator("#id_gaze_0").input_value() == "-0.05"
    # Submitting by keyboard with the files missing: the error summary takes the focus.
    page.locator("#new-job button[type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#form-errors").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "form-errors"
    assert "Choose a photo." in page.inner_text("#form-errors")
    assert page.locator("#id_expression_scale").input_value() == "1.2"   # what was set is kept
    page.shot("keyboard-errors")
    assert page.js_errors == []
