"""Feature tables: every clip of the corpus, clean and laundered, cut into windows.

Features are cached per (clip, variant, feature version) under the cache folder, so
re-training or re-evaluating does not decode a video twice."""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.files import sha256_file

from .corpus import Clip
from .features import FEATURE_NAMES, FEATURE_VERSION, clip_features
from .laundering import ATTACKS, launder
from .video import read_samples

VARIANTS = ("clean",) + ATTACKS


@dataclass
class Table:
    X: np.ndarray            # (windows, features)
    y: np.ndarray            # 1 = generated
    clip: np.ndarray         # index into `clips`
    variant: np.ndarray      # variant name per window
    start: np.ndarray        # window start (s)
    clips: list[Clip]

    def groups(self, key: str) -> np.ndarray:
        return np.array([getattr(self.clips[i], key) for i in self.clip])

    def videos(self) -> np.ndarray:
        """Per window, the video it comes from: its clip in one variant (clean or laundered)."""
        return np.char.add(np.char.add(self.clip.astype(str), ":"), self.variant.astype(str))

    def subset(self, mask: np.ndarray) -> "Table":
        return Table(self.X[mask], self.y[mask], self.clip[mask], self.variant[mask], self.start[mask], self.clips)


def _key(clip: Clip) -> str:
    return Path(clip.path).stem + "-" + hashlib.sha1(clip.path.encode()).hexdigest()[:6]


def clip_variant_features(clip: Clip, variant: str, cache: Path) -> dict:
    out = Path(cache) / "features" / FEATURE_VERSION / f"{_key(clip)}__{variant}.npz"
    if out.exists():
        d = np.load(out)
        return {"X": d["X"], "starts": d["starts"]}
    out.parent.mkdir(parents=True, exist_ok=True)
    src = Path(clip.path)
    tmp = None
    if variant != "clean":
        tmp = Path(cache) / "laundered" / f"{_key(clip)}__{variant}.mp4"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        seed = int(hashlib.sha1(f"{clip.path}:{variant}".encode()).hexdigest()[:8], 16)
        launder(src, tmp, variant, seed=seed)
        src = tmp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f = clip_features(read_samples(src))
    if tmp is not None:
        tmp.unlink(missing_ok=True)   # keep the features, not the laundered copy
    np.savez(out, X=f.X, starts=f.starts)
    return {"X": f.X, "starts": f.starts}


def cached(clip: Clip, variant: str, cache: Path) -> bool:
    return (Path(cache) / "features" / FEATURE_VERSION / f"{_key(clip)}__{variant}.npz").exists()


def build_table(clips: list[Clip], cache: Path, variants=VARIANTS, log=None, *, cached_only: bool = False) -> Table:
    """Window features of every clip and variant (computed and cached where missing; with
    `cached_only`, variants not yet in the cache are left out and reported)."""
    Xs, ys, cs, vs, ss = [], [], [], [], []
    for ci, clip in enumerate(clips):
        for v in variants:
            if cached_only and not cached(clip, v, cache):
                if log:
                    log(f"not cached, left out: {Path(clip.path).name} [{v}]")
                continue
            try:
                d = clip_variant_features(clip, v, cache)
            except Exception as exc:  # a broken file must not stop a training run; it is reported
                if log:
                    log(f"skip {clip.path} [{v}]: {exc}")
                continue
            n = len(d["X"])
            Xs.append(d["X"])
            ys.append(np.full(n, clip.label))
            cs.append(np.full(n, ci))
            vs.append(np.array([v] * n))
            ss.append(d["starts"])
        if log:
            log(f"features {ci + 1}/{len(clips)} {Path(clip.path).name}")
    if not Xs:
        raise ValueError("no features could be computed from the given clips")
    return Table(np.concatenate(Xs).astype(np.float32), np.concatenate(ys), np.concatenate(cs), np.concatenate(vs),
                 np.concatenate(ss), clips)


def data_hashes(clips: list[Clip]) -> dict:
    """sha256 of every source file (the training manifest records what the model saw)."""
    return {Path(c.path).name: sha256_file(c.path) for c in clips}


def feature_names() -> list[str]:
    return list(FEATURE_NAMES)


if __name__ == "__main__":  # python -m detection.dataset: fill the feature cache
    import sys

    from .corpus import DEFAULT_CACHE, cached_clips, real_clips
    clips = real_clips() + cached_clips()
    build_table(clips, DEFAULT_CACHE, log=lambda m: print(m, flush=True))
    print(json.dumps({"clips": len(clips)}), file=sys.stderr)
