"""Honest evaluation: every score is out-of-fold, with whole identities (and so whole
source videos and photos) held out; laundered copies of a held-out clip are held out
with it. Video-level figures first; window-level ones beside them."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import GroupKFold

from .dataset import Table
from .features import FEATURE_GROUPS, FEATURE_NAMES, feature_group
from .laundering import ATTACKS
from .model import fit_calibrated, make_classifier


def tpr_at_fpr(y, s, fpr_max=0.01) -> float:
    fpr, tpr, _ = roc_curve(y, s)
    ok = fpr <= fpr_max + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def eer(y, s) -> float:
    fpr, tpr, _ = roc_curve(y, s)
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2)


def metrics(y, s) -> dict:
    y, s = np.asarray(y), np.asarray(s)
    if len(np.unique(y)) < 2:
        return {"n_real": int((y == 0).sum()), "n_generated": int((y == 1).sum()),
                "detected_at_0.5": round(float((s[y == 1] >= 0.5).mean()), 4) if (y == 1).any() else None}
    return {"auc": round(float(roc_auc_score(y, s)), 4), "tpr_at_1pct_fpr": round(tpr_at_fpr(y, s), 4),
            "eer": round(eer(y, s), 4), "brier": round(float(brier_score_loss(y, np.clip(s, 0, 1))), 4),
            "n_real": int((y == 0).sum()), "n_generated": int((y == 1).sum())}


def _fit(table: Table, mask: np.ndarray, seed: int, max_iter: int):
    clf = make_classifier(groups=table.groups("identity")[mask], X=table.X[mask], y=table.y[mask], seed=seed,
                          max_iter=max_iter)
    return fit_calibrated(clf, table.X[mask], table.y[mask])


def out_of_fold(table: Table, *, k: int = 5, seed: int = 0, max_iter: int = 200,
                train_mask: np.ndarray | None = None, log=None) -> np.ndarray:
    """Window probabilities, each from a model that never saw the window's identity."""
    groups = table.groups("identity")
    probs = np.full(len(table.y), np.nan)
    for f, (tr, te) in enumerate(GroupKFold(n_splits=k).split(table.X, table.y, groups)):
        m = np.zeros(len(table.y), bool)
        m[tr] = True
        if train_mask is not None:
            m &= train_mask
        clf = _fit(table, m, seed, max_iter)
        probs[te] = clf.predict_proba(table.X[te])[:, 1]
        if log:
            log(f"fold {f + 1}/{k}")
    return probs


def video_level(table: Table, probs: np.ndarray, rows: np.ndarray | None = None):
    """(label, score, clip index, variant) per video: the mean of its windows' scores."""
    rows = np.ones(len(probs), bool) if rows is None else rows
    keys = {}
    for i in np.where(rows)[0]:
        keys.setdefault((int(table.clip[i]), str(table.variant[i])), []).append(probs[i])
    y = np.array([table.clips[c].label for c, _ in keys])
    s = np.array([float(np.mean(v)) for v in keys.values()])
    c = np.array([c for c, _ in keys])
    v = np.array([v for _, v in keys])
    return y, s, c, v


def report(table: Table, probs: np.ndarray) -> dict:
    """Held-out (clean), then after each laundering attack, at video and window level."""
    y, s, _, v = video_level(table, probs)
    out = {"held_out": metrics(y[v == "clean"], s[v == "clean"]), "laundered": {}}
    for a in ATTACKS:
        out["laundered"][a] = metrics(y[v == a], s[v == a])
    lm = v != "clean"
    out["laundered_all"] = metrics(y[lm], s[lm])
    out["all_variants"] = metrics(y, s)
    wl = {"held_out": metrics(table.y[table.variant == "clean"], probs[table.variant == "clean"]),
          "laundered_all": metrics(table.y[table.variant != "clean"], probs[table.variant != "clean"])}
    out["window_level"] = wl
    return out


def leave_one_family_out(table: Table, *, k: int = 4, seed: int = 0, max_iter: int = 150, log=None,
                         key: str = "family") -> dict:
    """For each control family (or engine, with key="engine"): trained without any
    generation of it, tested on them (clean and laundered) against the held-out real videos."""
    fam = np.where(table.y == 0, "real", table.groups(key))
    out = {}
    for f in sorted(set(fam) - {"real"}):
        probs = out_of_fold(table, k=k, seed=seed, max_iter=max_iter, train_mask=fam != f)
        rows = (fam == f) | (fam == "real")
        y, s, _, v = video_level(table, probs, rows)
        out[f] = {"clean": metrics(y[v == "clean"], s[v == "clean"]),
                  "laundered_all": metrics(y[v != "clean"], s[v != "clean"])}
        if log:
            log(f"family {f}: {out[f]['clean'].get('auc')}")
    return out


def report_by_engine(table: Table, probs: np.ndarray) -> dict:
    """The same figures for each engine's generations against all the real videos."""
    eng = table.groups("engine")
    out = {}
    for e in sorted(set(eng[table.y == 1])):
        rows = (table.y == 0) | (eng == e)
        y, s, _, v = video_level(table, probs, rows)
        out[e] = {"held_out": metrics(y[v == "clean"], s[v == "clean"]),
                  "laundered": {a: metrics(y[v == a], s[v == a]) for a in ATTACKS},
                  "laundered_all": metrics(y[v != "clean"], s[v != "clean"])}
    return out


def reliability(y, s, bins: int = 10) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for i in range(bins):
        m = (s >= edges[i]) & ((s < edges[i + 1]) if i < bins - 1 else (s <= 1))
        if m.any():
            out.append({"bin": [round(edges[i], 2), round(edges[i + 1], 2)], "n": int(m.sum()),
                        "mean_score": round(float(s[m].mean()), 4), "fraction_generated": round(float(y[m].mean()), 4)})
    return out


def group_ablation(table: Table, *, k: int = 5, seed: int = 0, max_iter: int = 150, log=None) -> dict:
    """Trained and tested without one group of features at a time: how much each family of
    cues carries, and whether the rest still detects (e.g. without the noise residuals,
    which our watermark, a fixed pattern in every frame, could feed)."""

    out = {}
    for g in FEATURE_GROUPS:
        keep = np.array([feature_group(n) != g for n in FEATURE_NAMES])
        sub = replace(table, X=table.X[:, keep])
        probs = out_of_fold(sub, k=k, seed=seed, max_iter=max_iter)
        y, s, _, v = video_level(sub, probs)
        out[f"without_{g}"] = {"features_left": int(keep.sum()),
                               "held_out": metrics(y[v == "clean"], s[v == "clean"]),
                               "laundered_all": metrics(y[v != "clean"], s[v != "clean"])}
        if log:
            log(f"without {g}: {out[f'without_{g}']['held_out'].get('auc')}")
    return out
