"""French complete: every page each kind of user reaches is rendered in English and in
French on the same data, and a French page fails the test where a piece of its text (a
text node, or an aria-label, title, alt, placeholder or data- text) is the same as on
the English page and holds an English word. Names, file names, ids, hashes and numbers
are not words; content marked translate="no" (a file's manifest, hashes, the policy
version) is data, not interface. Numbers are written the French way (1,5, not 1.5)."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import django
import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import corpus_file

ARTIFACT = Path(__file__).resolve().parents[1] / "browser" / "artifacts" / "french_pages.json"
TEXT_ATTRS = {"aria-label", "title", "alt", "placeholder"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Words that are the same in both languages, or proper names and formats.
SAME = {"veritalk", "c2pa", "sha-256", "mp4", "mov", "webm", "mkv", "jpeg", "png", "webp", "wav", "mp3", "flac",
        "m4a", "ogg", "english", "français", "web", "marketing", "absent", "note", "photo", "audio", "action",
        "actions", "invitation", "signature", "api", "gpu", "cpu", "admin", "score", "message", "selfies",
        "diffusion", "provenance", "image", "images", "portrait", "version", "source"}
SVG_SHAPES = {"svg", "line", "text", "circle", "rect", "polyline", "path"}
COORDINATES = {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "viewbox"}
FILE_NAME = re.compile(r"\S+\.[A-Za-z0-9]{2,4}\b")
NUMBER_EN = re.compile(r"(?<![\w.,-])\d+\.\d+(?![\w.-])")


class Texts(HTMLParser):
    """The page's human text: text nodes outside script/style and translate="no" subtrees,
    and the text attributes of elements (data- attributes that hold a sentence)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.out, self.coordinates = [], [], []

    def skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SVG_SHAPES:   # drawing coordinates are never localized ("77,6" breaks the plot)
            self.coordinates += [f"{tag} {k}={v}" for k, v in attrs.items() if k in COORDINATES
                                 and not re.fullmatch(r"-?\d+(\.\d+)?( -?\d+(\.\d+)?)*", v or "")]
        skip = tag in ("script", "style") or attrs.get("translate") == "no"
        if not skip and not self.skipping():
            for k, v in attrs.items():
                if v and (k in TEXT_ATTRS or (k.startswith("data-") and " " in v.strip())):
                    self.out.append(v)
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self.skipping() and data.strip():
            self.out.append(" ".join(data.split()))


def texts(html: str) -> list[str]:
    parser = Texts()
    parser.feed(html)
    return parser.out


def bad_coordinates(html: str) -> list[str]:
    parser = Texts()
    parser.feed(html)
    return parser.coordinates


def words_of(piece: str, names: set[str]) -> list[str]:
    words = re.findall(r"[^\W\d_][\w'’-]*", FILE_NAME.sub(" ", piece))
    return [w for w in words if w.lower() not in SAME and w not in names and len(w) > 1
            and not re.search(r"[_.\d]", w)]


@lru_cache(maxsize=1)
def french_words() -> frozenset:
    """Every word of the French translations: the project's catalogue and Django's own."""
    catalogues = [Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / "django.po",
                  Path(django.__file__).parent / "conf" / "locale" / "fr" / "LC_MESSAGES" / "django.po"]
    words = set()
    for path in catalogues:
        for entry in polib.pofile(str(path)):
            for text in [entry.msgstr, *entry.msgstr_plural.values()]:
                words.update(re.findall(r"[^\W\d_][\w'’-]*", text))
    return frozenset(words)


def english_left(en: list[str], fr: list[str], names: set[str], french: frozenset | None = None) -> list[str]:
    """French pieces holding a word that the English page also shows and that no French
    translation uses (so not a name, a code or a word both languages share): an untranslated
    piece, or an English word left inside a French sentence."""
    french = french_words() if french is None else french
    english = {w for piece in en for w in words_of(piece, names)} - french
    return sorted({piece for piece in fr if any(w in english for w in words_of(piece, names))})


def pages(w) -> list[tuple[str, object, str, dict | None]]:
    """(label, user, url, POST data or None) for every page a user reaches."""
    made, denied = w["made"], w["denied"]
    video = corpus_file("videos/voxceleb2_00373.mp4")
    return [
        ("landing", None, "/", None),
        ("sign-up", None, reverse("account:signup"), None),
        ("sign-up with errors", None, reverse("account:signup"), {"username": "x"}),
        ("password reset", None, reverse("password_reset"), None),
        ("login", None, reverse("login"), None),
        ("vetting request", w["unvetted"], reverse("account:vetting_request"), None),
        ("invitation (stranger)", None, reverse("consent_portal:invitation", args=[w["token"]]), None),
        ("dashboard", w["creator"], reverse("portal:dashboard"), None),
        ("new video", w["creator"], reverse("portal:new_job"), None),
        ("new video with errors", w["creator"], reverse("portal:new_job"), {"expression_scale": "9"}),
        ("video made", w["creator"], reverse("portal:job", args=[made.pk]), None),
        ("video refused", w["creator"], reverse("portal:job", args=[denied.pk]), None),
        ("invite", w["creator"], reverse("consent_portal:invite"), None),
        ("live", w["creator"], reverse("live:new"), None),
        ("verify (creator)", w["creator"], reverse("portal:verify"), None),
        ("my consents", w["subject"], reverse("consent_portal:me"), None),
        ("grant", w["subject"], reverse("consent_portal:grant"), None),
        ("revoke", w["subject"], reverse("consent_portal:revoke", args=[w["consent"].pk]), None),
        ("enrol", w["subject"], reverse("consent_portal:enrol"), None),
        ("videos of me", w["subject"], reverse("consent_portal:videos"), None),
        ("invitation (subject)", w["subject"], reverse("consent_portal:invitation", args=[w["token"]]), None),
        ("moderation", w["moderator"], reverse("moderation_portal:queue"), None),
        ("case (our output)", w["moderator"], reverse("moderation_portal:case", args=[w["case"].pk]), None),
        ("case (upload)", w["moderator"], reverse("moderation_portal:case", args=[w["upload_case"].pk]), None),
        ("vetting", w["moderator"], reverse("consent_portal:vetting"), None),
        ("elevation", w["moderator"], reverse("consent_portal:elevation"), None),
        ("live moderation", w["moderator"], reverse("live:moderation"), None),
        ("verify", w["auditor"], reverse("portal:verify"), None),
        ("verify our output", w["auditor"], reverse("portal:verify"), {"file": made.output.path}),
        ("verify a camera video", w["auditor"], reverse("portal:verify"), {"file": str(video)}),
    ]


def fetch(client, user, url, data, lang):
    client.logout()
    if user is not None:
        client.force_login(user)
    if data is None:
        r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang, follow=True)
    else:
        files = {k: open(v, "rb") for k, v in data.items() if k == "file"}
        try:
            r = client.post(url, {**data, **files}, HTTP_ACCEPT_LANGUAGE=lang, follow=True)
        finally:
            for f in files.values():
                f.close()
    assert r.status_code in (200, 400), (url, r.status_code)
    return r.content.decode()


@pytest.mark.django_db(transaction=True)
def test_no_english_left_on_any_french_page(client, portal_world):
    world = portal_world
    problems = {}
    for label, user, url, data in pages(world):
        en, fr = fetch(client, user, url, data, "en"), fetch(client, user, url, data, "fr")
        assert '<html lang="fr">' in fr
        left = english_left(texts(en), texts(fr), world["names"])
        numbers = [n for piece in texts(fr) for n in NUMBER_EN.findall(piece)] + bad_coordinates(fr)
        if left or numbers:
            problems[label] = {"english": left, "numbers": numbers}
    report = json.dumps(problems, indent=1, ensure_ascii=False)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(report)
    assert problems == {}, report


def test_the_checker_finds_english():
    """The check itself: an untranslated piece is found; names, ids and same words are not."""
    en = ["Your videos", "Bea", "Photo", "3f2a9c", "report.mp4", "Score 0.5"]
    fr = ["Vos vidéos", "Bea", "Photo", "3f2a9c", "report.mp4", "Score 0.5", "Open"]
    assert english_left(en + ["Open"], fr, {"Bea"}, frozenset({"Vos", "vidéos"})) == ["Open"]
    assert english_left(["0.100 (generated)", "minute"], ["0,100 (generated)", "0,100 (généré)", "par minute"],
                        set(), frozenset({"généré", "par", "minute"})) == ["0,100 (generated)"]
    assert "Vérifier" in french_words() and "generated" not in french_words()
    assert bad_coordinates('<svg viewBox="0 0 640 180"><line x1="28" y1="77,6"/><circle cx="1.5" r="3"/></svg>') \
        == ["line y1=77,6"]
    assert NUMBER_EN.findall("score 0.482, version 2026.12-1, 1,5") == ["0.482"]
    assert texts('<p title="Hello there">Hi <span translate="no">data <b>x</b></span> end</p>'
                 '<script>var a = "no";</script>') == ["Hello there", "Hi", "end"]
