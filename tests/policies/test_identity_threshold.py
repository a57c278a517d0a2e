"""The identity threshold in the policy, measured on the corpus (bench.identity,
photos and generated portraits; the video frames are in the bench's report only):
no pair of different people is accepted, the corpus's same-person pairs are."""
import pytest

from bench.identity import CORPUS, measure
from policies import load_policy
from tests.conftest import corpus_file


@pytest.fixture(scope="module")
def report():
    corpus_file("photos/obama_1.jpg")  # skips when the corpus is absent
    return measure(CORPUS, videos=False)


def test_no_false_accept_on_any_different_person_pair(report):
    photos = report["photos"]
    assert report["threshold"] == load_policy().param("identity_match", "max_distance") == 0.5
    assert photos["faces"] == 23 and photos["skipped"] == {}
    assert photos["different_person_pairs"] == 23 * 22 // 2 - 2
    assert photos["false_accepts"] == []
    assert report["generated"]["false_accepts"] == []          # AI-made and artwork faces too
    assert report["threshold"] < report["no_false_accept_below"]


def test_same_person_pairs_are_accepted(report):
    pairs = {(p["a"], p["b"]): p["distance"] for p in report["photos"]["same_person_pairs"]}
    assert set(pairs) == {("obama_1", "obama_2"), ("biden_1", "biden_2")}
    assert report["photos"]["false_rejects"] == []
    assert all(d < report["threshold"] for d in pairs.values())
