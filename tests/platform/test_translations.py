"""English and French: every string of the French catalogue is translated, the
committed .mo is the compiled .po (so running needs no gettext), and a French browser
gets French pages while the language switcher changes it."""
import gettext
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES"
PACKAGES = ("platform", "generation", "provenance", "detection", "policies", "common")   # what makemessages reads
SOURCES = {".py", ".html", ".txt", ".po"}
MAKEMESSAGES = dict(locale=["fr"], no_location=True, no_obsolete=True, verbosity=0,
                    ignore_patterns=["var", "tests", "bench", "docs", "node_modules", ".venv"])


def catalogue() -> polib.POFile:
    return polib.pofile(str(LOCALE / "django.po"))


def test_every_string_is_translated_and_compiled():
    po = catalogue()
    assert len(po) > 150
    assert [e.msgid for e in po.untranslated_entries()] == [] and [e.msgid for e in po.fuzzy_entries()] == []
    with open(LOCALE / "django.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [e.msgid for e in po if compiled.gettext(e.msgid) != e.msgstr]
    assert stale == [], f"django.mo is older than django.po (make messages): {stale[:5]}"
    for e in po:  # placeholders survive translation
        assert sorted(re.findall(r"%\(\w+\)[sd]", e.msgid)) == sorted(re.findall(r"%\(\w+\)[sd]", e.msgstr)), e.msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed (apt-get install gettext)")
def test_the_catalogue_holds_every_string_of_the_code_and_makemessages_keeps_it(tmp_path, settings, monkeypatch):
    """`make messages` on a copy of the sources and the catalogue: no string of the code is
    missing from django.po, none is left over, and every translation survives it."""
    root = Path(settings.ROOT_DIR)

    def sources_only(folder, names):
        return [n for n in names if (Path(folder) / n).is_file() and Path(n).suffix not in SOURCES]
    for top in PACKAGES:
        shutil.copytree(root / top, tmp_path / top, ignore=sources_only)
    settings.LOCALE_PATHS = [str(tmp_path / LOCALE.relative_to(root).parents[1])]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", **MAKEMESSAGES)
    before = {e.msgid: e.msgstr for e in catalogue()}
    after = {e.msgid: e.msgstr for e in polib.pofile(str(tmp_path / LOCALE.relative_to(root) / "django.po"))}
    assert sorted(set(after) - set(before)) == [], "strings of the code missing from django.po: run make messages"
    assert sorted(set(before) - set(after)) == [], "strings of django.po no longer in the code: run make messages"
    assert after == before


@pytest.mark.django_db
def test_french_browser_gets_french_and_can_switch(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="fr">' in page and "Se connecter" in page and "Mot de passe" in page
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 302
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="en">' in page and "Log in" in page


@pytest.mark.django_db
def test_consent_refusals_follow_the_language(creator):
    """The consent service's refusals reach French pages and API clients in French."""
    from django.utils import translation

    from consent.services import ConsentError, give_consent
    for lang, words in (("fr", "seul un compte de sujet peut donner son consentement"),
                        ("en", "only a subject account can grant consent")):
        with translation.override(lang):
            with pytest.raises(ConsentError) as err:
                give_consent(account=creator, creator=creator, purposes=["test"], agreed=True)
            assert err.value.message == words   # rendered in the language active where it is read


@pytest.mark.django_db
def test_a_french_subject_sees_a_french_refusal(client, make_user):
    """Through the portal: an invitation link opened by a creator account is refused in French."""
    from consent.invitations import create_invitation
    alice = make_user("alice", "creator", vetted=True)
    _, token = create_invitation(creator=alice, display_name="Bea")
    other = make_user("carl", "creator", vetted=True)
    client.force_login(other)
    from django.urls import reverse
    r = client.post(reverse("consent_portal:invitation", args=[token]), HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 403
    assert "les invitations sont acceptées par des comptes de sujet" in r.content.decode()


@pytest.mark.django_db
def test_input_errors_of_the_libraries_follow_the_language(creator, text_file, two_faces_png):
    """The generation library's errors (English templates) reach a French client in French."""
    from tests.platform.conftest import as_user
    api = as_user(creator)
    for lang, words in (("fr", "n'est pas une image dans un format accepté"),
                        ("en", "not an image in a supported format")):
        with open(text_file, "rb") as f:
            r = api.post("/api/faces/", {"photo": f}, format="multipart", HTTP_ACCEPT_LANGUAGE=lang)
        assert r.status_code == 400 and words in r.json()["photo"][0], r.json()
    with open(two_faces_png, "rb") as f:
        two = api.post("/api/faces/", {"photo": f}, format="multipart", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert "la photo montre 2 visages" in two["problem"], two



@pytest.mark.django_db
def test_moderation_and_vetting_refusals_follow_the_language(make_user):
    """Every app's refusals are the one translated error type: moderation's and vetting's too."""
    from django.utils import translation

    from moderation.models import Case
    from moderation.services import ModerationError, act
    from tests.platform.conftest import as_user
    moderator = make_user("mod", role="moderator", vetted=False)
    make_user("newbie", vetted=False)
    for lang, words in (("fr", "une décision de validation demande une note"),
                        ("en", "a vetting decision needs a note saying why")):
        r = as_user(moderator).post("/api/vetting/", {"username": "newbie", "note": " "}, HTTP_ACCEPT_LANGUAGE=lang)
        assert r.status_code == 400 and words in r.json()["note"][0], r.json()
    case = Case.objects.create(source=Case.Source.UPLOAD, file_name="x.mp4", sha256="0" * 64, created_by=moderator)
    for lang, words in (("fr", "l'analyse de ce dossier n'est pas encore terminée"),
                        ("en", "the analysis of this case has not finished yet")):
        with translation.override(lang):
            with pytest.raises(ModerationError) as err:
                act(case, moderator, "flag")
            assert err.value.message == words and err.value.code == "not_analysed"
