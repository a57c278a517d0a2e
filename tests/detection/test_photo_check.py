"""The photo check (is this a photograph of a person?) with the shipped model: the corpus'
artwork and cartoon portraits, which it never trained on, are refused; every real photo
of the corpus and degraded copies of them are accepted; a refusal is a clear input error;
the reference is plain JSON, and anything else is refused."""
import pickle

import numpy as np
import pytest

from bench.photo_check import ARTWORK
from detection.photo_check import (
    NotAPhotograph,
    PhotoModelError,
    check_photo,
    load_model,
    require_photograph,
    shipped_model,
)
from detection.stylise import degrade, stylise
from generation.errors import InputError
from generation.face import analyse_face
from generation.images import load_image_file
from tests.conftest import corpus_file

REAL_PHOTOS = ["albert_einstein_bw.jpg", "alex_lacamoire.png", "angelina_jolie.jpg", "biden_1.jpg", "biden_2.jpg",
               "child_print_recapture.jpg", "donald_trump.jpg", "elizabeth_olsen.jpg", "elon_musk.jpg",
               "jack_dorsey.jpg", "jeff_bezos.jpg", "kit_harington.jpg", "lin_manuel_miranda.png",
               "man_curly_glasses.jpg", "marissa_mayer.jpg", "mark_zuckerberg.jpg", "obama_1.jpg", "obama_2.jpg",
               "princess_diana.jpg", "rose_leslie.jpg", "scarlett_johansson.jpg", "woman_white_blouse.png"]


def verdict(rgb):
    return check_photo(rgb, analyse_face(rgb).landmarks)


@pytest.mark.parametrize("name", sorted(ARTWORK))
def test_artwork_and_cartoons_are_refused(name):
    rgb = load_image_file(corpus_file(f"generated/{name}"))
    v = verdict(rgb)
    assert not v.photograph, f"{name} accepted as a photograph (score {v.score:.3f} < {v.threshold})"


@pytest.mark.parametrize("name", REAL_PHOTOS)
def test_real_photos_are_accepted(name):
    rgb = load_image_file(corpus_file(f"photos/{name}"))
    v = verdict(rgb)
    assert v.photograph, f"{name} refused (score {v.score:.3f} >= {v.threshold})"


def test_degraded_real_photos_are_accepted():
    seed = 2121
    rng = np.random.default_rng(seed)
    refused = []
    for name in REAL_PHOTOS[::3]:
        rgb = load_image_file(corpus_file(f"photos/{name}"))
        for _ in range(2):
            img, params = degrade(rgb, rng)
            try:
                face = analyse_face(img)
            except InputError:
                continue  # the face finder's limit at this size, not the photo check's
            v = check_photo(img, face.landmarks)
            if not v.photograph:
                refused.append((name, params, round(v.score, 3)))
    assert refused == [], f"seed {seed}: degraded real photos refused: {refused}"


def test_a_cartoonised_photo_is_refused_with_a_clear_error():
    rgb = load_image_file(corpus_file("photos/obama_2.jpg"))
    face = analyse_face(rgb)
    toon = stylise(rgb, face.landmarks, "cartoon", np.random.default_rng(7))
    with pytest.raises(NotAPhotograph) as err:
        require_photograph(toon, analyse_face(toon).landmarks, field="selfies")
    e = err.value
    assert e.code == "not_a_photograph" and e.field == "selfies"
    assert e.message == "This looks like a drawing or a render, not a photograph of a person"


def test_the_verdict_names_its_cues():
    rgb = load_image_file(corpus_file("generated/cartoon_3d_boy.jpg"))
    v = verdict(rgb)
    d = v.as_dict()
    assert d["photograph"] is False and d["score"] >= d["threshold"]
    assert "eyes larger than a person's" in d["cues"]          # cartoon proportions, in words


def test_only_a_photo_check_reference_is_loaded(tmp_path):
    model = shipped_model()
    assert model.threshold > 0 and model.version.startswith("vt-photo-features")
    assert len(model.reference) > 500                            # real photos and frames, clean and degraded
    bad = tmp_path / "photo_check.json"
    bad.write_bytes(pickle.dumps({"reference": None}))
    with pytest.raises(PhotoModelError, match="could not be read"):
        load_model(bad)
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(PhotoModelError, match="not a photo-check reference"):
        load_model(bad)
    with pytest.raises(PhotoModelError, match="no photo-check reference"):
        load_model(tmp_path / "missing.json")
