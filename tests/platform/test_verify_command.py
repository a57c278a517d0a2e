"""`manage.py verify --json`: different verdicts for our output, our output with
flipped video bytes, and a real video; the JSON carries DESIGN.md's keys."""
import json
import shutil

import pytest

from tests.conftest import corpus_file
from tests.platform.conftest import run_command, verify_json


@pytest.fixture
def output(db, tmp_path, consenting_subject, portrait):
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(portrait),
                               "--audio", str(corpus_file("audio/vctk_p240_en.mp3")), "--out",
                               str(tmp_path / "out.mp4"), "--purpose", "test", "--json")
    assert rc == 0, err
    return json.loads(out)


verify = verify_json


@pytest.mark.django_db(transaction=True)
def test_three_files_three_verdicts(output, tmp_path):
    ours = verify(output["output"])
    assert ours["verdict"] == "authentic" and ours["registry"]["job"] == output["job"]

    data = bytearray(open(output["output"], "rb").read())
    mdat = data.find(b"mdat")
    for k in range(6):                       # a few bytes of the video data
        data[mdat + 5000 + 131 * k] ^= 0x5A
    flipped = tmp_path / "flipped.mp4"
    flipped.write_bytes(bytes(data))
    tampered = verify(flipped)
    assert tampered["verdict"] == "tampered" and tampered["c2pa"]["state"] == "Invalid"
    assert tampered["c2pa"]["errors"]

    real = tmp_path / "real.mp4"
    shutil.copyfile(corpus_file("videos/voxceleb2_00015.mp4"), real)
    theirs = verify(real)
    assert theirs["verdict"] == "no_provenance"
    assert theirs["c2pa"]["state"] == "Absent" and not theirs["watermark"]["found"] and not theirs["registry"]["match"]

    assert len({ours["verdict"], tampered["verdict"], theirs["verdict"]}) == 3


@pytest.mark.django_db
def test_missing_file_is_a_clear_error(tmp_path):
    rc, _, err = run_command("verify", str(tmp_path / "nope.mp4"), "--json")
    assert rc == 1 and "no such file" in err
