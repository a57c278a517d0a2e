"""The training corpus across generators, and how sure the figures are: other generators'
clips grouped with the real interview they were made from, unsure files kept out, every
generation named by its family; bootstrap intervals that widen with fewer videos, a
false-positive rate read off other people's videos, exact binomial intervals."""
import numpy as np
import pytest

from bench.media import CORPUS
from detection.corpus import Clip, generator_family, identity_of, other_generator_clips, real_clips, unsure_files
from detection.evaluate import clopper_pearson, rates_with_intervals, real_above_threshold_cv


def test_a_generation_and_the_interview_it_came_from_share_one_group():
    assert identity_of("hallo__1uibrc3xmem_51") == identity_of("aniportrait_audio__1uibrc3xmem_19")
    assert identity_of("thb_real_sak2kobsimy_5") == identity_of("anything__sak2kobsimy_2") == "yt_sak2kobsimy"
    assert identity_of("obama_2") == "obama" and identity_of("voxceleb2_00015") == "voxceleb2_00015"


def test_families_name_our_engine_and_the_others():
    ours = Clip("g.mp4", 1, "p", "p.jpg", "gaze", engine="veritalk-warp 0.2.0 learned motion")
    other = Clip("h.mp4", 1, "yt_x", "x_1", "hallo", engine="hallo")
    real = Clip("r.mp4", 0, "r", "r.mp4", "real")
    assert [generator_family(c) for c in (ours, other, real)] == ["veritalk", "hallo", "real"]


@pytest.mark.skipif(not (CORPUS / "other_generators").is_dir(), reason="the corpus's other_generators/ is absent")
def test_the_corpus_gives_six_other_families_grouped_by_source_and_no_unsure_real_video():
    others = other_generator_clips(CORPUS)
    assert {c.family for c in others} == {"aniportrait_audio", "aniportrait_video", "emoportraits", "hallo",
                                          "hallo2", "liveportrait"}
    assert all(c.label == 1 and c.identity.startswith("yt_") for c in others)
    reals = real_clips(CORPUS)
    unsure = unsure_files(CORPUS)
    assert "expressive_lp_d14.mp4" in unsure and not {c.source for c in reals} & unsure
    assert "latentsync_demo1.mp4" not in {c.source for c in reals}


def test_intervals_cover_the_point_and_widen_with_fewer_videos():
    rng = np.random.default_rng(0)

    def data(n_real, n_gen):
        y = np.r_[np.zeros(n_real), np.ones(n_gen)].astype(int)
        s = np.r_[rng.normal(0.3, 0.15, n_real), rng.normal(0.6, 0.15, n_gen)]
        return y, s, np.array([f"p{i}" for i in range(len(y))])
    small = rates_with_intervals(*data(20, 20), n_boot=300)
    large = rates_with_intervals(*data(400, 400), n_boot=300)
    for r in (small, large):
        for k in ("auc", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr"):
            assert r[k]["low"] <= r[k]["value"] <= r[k]["high"]
    width = {n: r["tpr_at_5pct_fpr"]["high"] - r["tpr_at_5pct_fpr"]["low"] for n, r in (("s", small), ("l", large))}
    assert width["s"] > width["l"]


def test_real_false_positives_are_counted_against_thresholds_from_other_people():
    rng = np.random.default_rng(1)
    scores = rng.uniform(0, 1, 100)
    ident = np.array([f"p{i // 2}" for i in range(100)])
    r = real_above_threshold_cv(scores, ident, fpr=0.05)
    assert r["n"] == 100 and 0 <= r["above"] <= 20 and r["low"] <= r["value"] <= r["high"]
    assert clopper_pearson(0, 23) == (0.0, pytest.approx(0.148, abs=0.002))   # 0 of 23: up to about 15%


def _two_family_table(seed: int = 0):
    """Windows of 24 real people and two generator families (8 people each, 3 windows a
    video, clean and laundered), one informative feature and three of noise."""
    from detection.dataset import Table
    rng = np.random.default_rng(seed)
    clips, X, y, ci, var = [], [], [], [], []
    for fam, n, shift in (("real", 24, 0.0), ("hallo", 8, 1.5), ("emoportraits", 8, 0.8)):
        for i in range(n):
            label = int(fam != "real")
            clips.append(Clip(f"{fam}_{i}.mp4", label, f"{fam}{i}", f"{fam}_{i}", fam,
                              engine="" if fam == "real" else fam))
            for v in ("clean", "chain"):
                for _ in range(3):
                    X.append(np.r_[rng.normal(shift, 1.0), rng.normal(0, 1.0, 3)])
                    y.append(label)
                    ci.append(len(clips) - 1)
                    var.append(v)
    n = len(y)
    return Table(np.array(X, np.float32), np.array(y), np.array(ci), np.array(var), np.zeros(n), clips)


def test_folds_keep_people_whole_and_a_split_seed_changes_which_share_a_fold():
    from detection.evaluate import identity_folds
    groups = np.repeat([f"p{i}" for i in range(20)], 3)
    fixed = [frozenset(groups[te]) for _, te in identity_folds(4).split(groups, groups=groups)]
    shuffled = [frozenset(groups[te]) for _, te in identity_folds(4, 7).split(groups, groups=groups)]
    for folds in (fixed, shuffled):
        assert sorted(p for f in folds for p in f) == sorted(set(groups))     # each person in exactly one fold
    assert set(fixed) != set(shuffled)
    assert fixed == [frozenset(groups[te]) for _, te in identity_folds(4).split(groups, groups=groups)]


def test_leave_one_family_out_repeated_over_splits_reports_each_split_and_their_range():
    from detection.evaluate import repeated_lofo
    table = _two_family_table()
    r = repeated_lofo(table, splits=3, k=4, max_iter=20)
    assert [run["split_seed"] for run in r["runs"]] == [None, 1, 2]
    s = r["summary_other_families"]["clean"]["tpr_at_5pct_fpr"]
    assert len(s["per_split"]) == 3 and s["min_split"] <= s["mean_over_splits"] <= s["max_split"]
    assert s["mean_over_splits"] == pytest.approx(np.mean(s["per_split"]), abs=1e-3)
    for fam in ("hallo", "emoportraits"):
        auc = r["families"][fam]["clean"]["auc"]
        assert auc["min"] <= auc["mean"] <= auc["max"]
    # the family whose windows sit further from the real ones is found more often, and is not the worst
    assert r["families"]["hallo"]["clean"]["auc"]["mean"] > r["families"]["emoportraits"]["clean"]["auc"]["mean"] > 0.5
    assert s["worst_family"] == "emoportraits"
