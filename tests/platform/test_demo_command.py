"""`manage.py demo --json` with corpus photos and wav, mp3 and flac voice tracks."""
import json

import pytest

from registry.models import RegistryEntry
from tests.conftest import corpus_file
from tests.platform.conftest import run_command

KEYS = {"creator", "subject", "job", "output", "verification", "seconds"}
CASES = [("photos/obama_2.jpg", "audio/sr_english_en.wav"),
         ("photos/albert_einstein_bw.jpg", "audio/vctk_p240_en.mp3"),
         ("photos/kit_harington.jpg", "audio/librispeech_1034_en.flac")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("photo,audio", CASES)
def test_demo_prints_the_design_keys_and_a_trusted_verified_output(photo, audio, tmp_path):
    out = tmp_path / "demo.mp4"
    rc, stdout, err = run_command("demo", "--photo", str(corpus_file(photo)), "--audio", str(corpus_file(audio)),
                                  "--out", str(out), "--size", "256", "--json")
    assert rc == 0, err
    result = json.loads(stdout)  # one JSON object, nothing else
    assert set(result) >= KEYS
    v = result["verification"]
    assert set(v) >= {"verdict", "c2pa", "watermark", "registry"}
    assert v["verdict"] == "authentic"
    assert v["c2pa"]["state"] == "Trusted" and v["c2pa"]["issuer"] == "Veritalk" and v["c2pa"]["errors"] == []
    entry = RegistryEntry.objects.get(job_id=result["job"])
    assert v["watermark"]["found"] and v["watermark"]["payload"] == entry.watermark_payload
    assert v["registry"] == {**v["registry"], "match": True, "job": result["job"], "revoked": False}
    assert result["output"] == str(out.resolve()) and out.is_file()


@pytest.mark.django_db(transaction=True)
def test_demo_reuses_its_creator_and_subject(tmp_path):
    args = ["demo", "--photo", str(corpus_file("photos/obama_2.jpg")), "--audio",
            str(corpus_file("audio/sr_english_en.wav")), "--size", "256", "--json"]
    first = json.loads(run_command(*args, "--out", str(tmp_path / "a.mp4"))[1])
    second = json.loads(run_command(*args, "--out", str(tmp_path / "b.mp4"))[1])
    assert first["subject"] == second["subject"] and first["job"] != second["job"]
