"""Identity threshold on the corpus: `python -m bench.identity --json`.

Computes dlib embeddings the way the platform does (generation.face on the
decoded photo, rounded as stored) and measures, at the policy's identity
threshold and on a sweep around it:
  false accepts  every pair of different people among corpus photos (and, as a
                 harder extra set, the AI-made/artwork portraits of generated/)
  false rejects  the corpus's same-person photo pairs (obama_1/2, biden_1/2),
                 plus frames of the same person in the corpus videos (within a
                 clip, and across clips SOURCES.tsv marks as the same person).
Same-person links are read from SOURCES.tsv ("same identity as X", "same person as X").
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import sys
import time
from pathlib import Path

import av
import numpy as np

from bench.media import CORPUS
from generation.errors import InputError
from generation.face import analyse_face, face_embedding
from generation.images import load_image
from policies import load_policy

PHOTO_TYPES = (".jpg", ".jpeg", ".png", ".webp")
SWEEP = [round(0.40 + 0.02 * i, 2) for i in range(11)]


def embed(rgb: np.ndarray) -> np.ndarray:
    """One face's embedding, rounded as consent.identity stores it."""
    return np.round(face_embedding(rgb, analyse_face(rgb)).astype(np.float64), 6)


def same_person_links(corpus: Path) -> dict[str, str]:
    """stem -> stem of the same person, from SOURCES.tsv notes."""
    links = {}
    with open(corpus / "SOURCES.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            m = re.search(r"same (?:identity|person) as (\w+)", row.get("notes", ""))
            if m:
                links[Path(row["file"]).stem] = m.group(1)
    return links


def identities(names: list[str], links: dict[str, str]) -> dict[str, str]:
    """Name each file's person: linked files share the identity of the file they point to."""
    who = {n: n for n in names}
    for a, b in links.items():
        if a in who and b in who:
            root = who[b]
            for n, ident in who.items():
                if ident == who[a]:
                    who[n] = root
    return who


def photo_embeddings(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    embs, skipped = {}, {}
    for path in sorted(p for p in folder.glob("*") if p.suffix.lower() in PHOTO_TYPES):
        try:
            embs[path.stem] = embed(load_image(path.read_bytes()))
        except InputError as exc:
            skipped[path.stem] = exc.code
    return embs, skipped


def video_embeddings(folder: Path, every: float = 2.0, per_clip: int = 5) -> dict[str, list[np.ndarray]]:
    out = {}
    for path in sorted(folder.glob("*.mp4")):
        embs, next_t = [], 0.0
        with av.open(str(path)) as container:
            for frame in container.decode(container.streams.video[0]):
                t = float(frame.time or 0.0)
                if t < next_t:
                    continue
                next_t += every
                try:
                    embs.append(embed(frame.to_ndarray(format="rgb24")))
                except InputError:
                    pass  # no face or two detections in this frame: not a usable sample
                if len(embs) >= per_clip:
                    break
        out[path.stem] = embs
    return out


def dist(a, b) -> float:
    return round(float(np.linalg.norm(a - b)), 4)


def measure(corpus: Path = CORPUS, *, threshold: float | None = None, videos: bool = True,
            generated: bool = True) -> dict:
    started = time.perf_counter()
    policy = load_policy()
    threshold = threshold if threshold is not None else policy.param("identity_match", "max_distance")
    links = same_person_links(corpus)
    photos, skipped = photo_embeddings(corpus / "photos")
    who = identities(list(photos), links)
    same, different = [], []
    for a, b in itertools.combinations(sorted(photos), 2):
        pair = {"a": a, "b": b, "distance": dist(photos[a], photos[b])}
        (same if who[a] == who[b] else different).append(pair)
    result = {
        "threshold": threshold, "policy_version": policy.version,
        "photos": {
            "faces": len(photos), "skipped": skipped,
            "same_person_pairs": same,
            "different_person_pairs": len(different),
            "false_accepts": [p for p in different if p["distance"] < threshold],
            "false_rejects": [p for p in same if p["distance"] >= threshold],
            "closest_different": min(different, key=lambda p: p["distance"]) if different else None,
            "farthest_same": max(same, key=lambda p: p["distance"]) if same else None,
        },
    }
    gen_pairs = []
    if generated and (corpus / "generated").is_dir():
        gen, gen_skipped = photo_embeddings(corpus / "generated")
        for a in sorted(gen):
            for b in sorted(photos):
                gen_pairs.append({"a": f"generated/{a}", "b": b, "distance": dist(gen[a], photos[b])})
        for a, b in itertools.combinations(sorted(gen), 2):
            gen_pairs.append({"a": f"generated/{a}", "b": f"generated/{b}", "distance": dist(gen[a], gen[b])})
        result["generated"] = {
            "faces": len(gen), "skipped": gen_skipped, "different_person_pairs": len(gen_pairs),
            "false_accepts": [p for p in gen_pairs if p["distance"] < threshold],
            "closest_different": min(gen_pairs, key=lambda p: p["distance"]) if gen_pairs else None,
        }
    vid_pairs = []
    if videos and (corpus / "videos").is_dir():
        clips = video_embeddings(corpus / "videos")
        for clip, embs in clips.items():
            vid_pairs += [{"a": clip, "b": clip, "distance": dist(x, y)} for x, y in itertools.combinations(embs, 2)]
        clip_who = identities(list(clips), links)
        for a, b in itertools.combinations(sorted(clips), 2):
            if clip_who[a] == clip_who[b]:
                vid_pairs += [{"a": a, "b": b, "distance": dist(x, y)} for x in clips[a] for y in clips[b]]
        rejects = [p for p in vid_pairs if p["distance"] >= threshold]
        result["videos"] = {
            "clips": len(clips), "frames": sum(len(e) for e in clips.values()),
            "same_person_pairs": len(vid_pairs), "false_rejects": rejects,
            "false_reject_rate": round(len(rejects) / len(vid_pairs), 4) if vid_pairs else None,
            "farthest_same": max(vid_pairs, key=lambda p: p["distance"]) if vid_pairs else None,
        }
    negatives = [p["distance"] for p in different] + [p["distance"] for p in gen_pairs]
    positives = [p["distance"] for p in same]
    video_pos = [p["distance"] for p in vid_pairs]
    result["sweep"] = [{
        "threshold": t,
        "false_accepts_photos": sum(d < t for d in (p["distance"] for p in different)),
        "false_accepts_generated": sum(d < t for d in (p["distance"] for p in gen_pairs)),
        "false_rejects_photos": sum(d >= t for d in positives),
        "false_reject_rate_videos": round(sum(d >= t for d in video_pos) / len(video_pos), 4) if video_pos else None,
    } for t in sorted(set(SWEEP + [threshold]))]
    safe = min(negatives) if negatives else None
    result["no_false_accept_below"] = safe  # any threshold at or under this accepts no different-person pair
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--threshold", type=float, help="default: the policy's identity-match max_distance")
    p.add_argument("--no-videos", action="store_true", help="photos only (faster)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not (args.corpus / "photos").is_dir():
        print(f"bench.identity: no corpus at {args.corpus} (pass --corpus)", file=sys.stderr)
        return 2
    result = measure(args.corpus, threshold=args.threshold, videos=not args.no_videos)
    if args.json:
        print(json.dumps(result))
    else:
        ph = result["photos"]
        print(f"threshold {result['threshold']} (policy {result['policy_version']}): "
              f"{len(ph['false_accepts'])} false accepts in {ph['different_person_pairs']} different-person pairs, "
              f"{len(ph['false_rejects'])} false rejects in {len(ph['same_person_pairs'])} same-person pairs")
        for row in result["sweep"]:
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
