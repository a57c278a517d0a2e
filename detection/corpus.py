"""The training corpus: our own generations (made through the real pipeline, every frame
watermarked) against the real talking videos of the shared corpus.

Each clip carries an `identity` and a `source` so that splits can hold out whole people and
whole source videos, and each generation a control `family` for leave-one-family-out tests.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from generation.audio import decode_audio, write_wav
from generation.controls import Controls
from generation.errors import InputError
from generation.pipeline import ENGINE_NAME, ENGINE_VERSION, generate_video
from provenance.videomark import VideoWatermarker

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "detector"
# Videos whose provenance the corpus marks "unsure" are left out of the real class.
EXCLUDED_REAL = {"latentsync_demo1.mp4"}
# Same person in different files (README of the corpus; hdtf_aoc is retalking_face_3's subject).
SAME_PERSON = {"hdtf_aoc": "aoc", "retalking_face_3": "aoc", "obama_1": "obama", "obama_2": "obama",
               "biden_1": "biden", "biden_2": "biden"}
FAMILIES = ("natural", "still_head", "strong_motion", "exaggerated", "emotion", "gaze", "blink", "lipsync_acoustic")
# The marker id used for training generations (a real output's frames carry the watermark).
TRAINING_REGISTRY_ID = 0x7E57


@dataclass(frozen=True)
class Clip:
    path: str
    label: int          # 1 = generated, 0 = real camera video
    identity: str
    source: str         # the photo or the real video it came from
    family: str         # control family for generations, "real" for camera videos
    controls: dict | None = None
    engine: str = ""    # "veritalk-warp 0.2.0"; "" for real videos (and the first engine's clips)

    def as_dict(self) -> dict:
        return asdict(self)


OURS = "veritalk"          # the generator family of our own engine (every backend and motion)
OTHER_DIR = "other_generators"


def identity_of(stem: str) -> str:
    """The person (or source interview) a file shows: TalkingHeadBench clips
    (`thb_real_<youtube id>_<n>`, `<generator>__<youtube id>_<n>`) by their YouTube id, so
    that a real interview and every generation made from it fall in the same group."""
    if "__" in stem:
        stem = "thb_real_" + stem.split("__", 1)[1]
    if stem.startswith("thb_real_"):
        return "yt_" + stem[len("thb_real_"):].rsplit("_", 1)[0].lower()
    return SAME_PERSON.get(stem, stem)


def unsure_files(corpus: Path = DEFAULT_CORPUS) -> set[str]:
    """Files whose provenance the corpus's SOURCES.tsv marks `unsure` (kept out of both classes)."""
    tsv = Path(corpus) / "SOURCES.tsv"
    if not tsv.exists():
        return set()
    out = set()
    for line in tsv.read_text().splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) > 2 and cols[2].strip() == "unsure":
            out.add(Path(cols[0]).name)
    return out


def real_clips(corpus: Path = DEFAULT_CORPUS) -> list[Clip]:
    out = []
    skip = EXCLUDED_REAL | unsure_files(corpus)
    for p in sorted((Path(corpus) / "videos").glob("*.mp4")):
        if p.name in skip:
            continue
        out.append(Clip(str(p), 0, identity_of(p.stem), p.name, "real"))
    return out


def other_generator_clips(corpus: Path = DEFAULT_CORPUS) -> list[Clip]:
    """Talking heads of other open generators (`<generator>__<source clip>.mp4`): their
    generator is both their family and their engine; the source interview is their group."""
    out = []
    for p in sorted((Path(corpus) / OTHER_DIR).glob("*__*.mp4")):
        gen, src = p.stem.split("__", 1)
        out.append(Clip(str(p), 1, identity_of(p.stem), src, gen, None, gen))
    return out


def generator_family(clip: Clip) -> str:
    """"real", OURS for any of our engine's generations, else the other generator's name."""
    if clip.label == 0:
        return "real"
    return OURS if clip.engine.startswith("veritalk") or not clip.engine else clip.engine


def _family_controls(family: str, rng: np.random.Generator) -> dict:
    """Controls for one generation: one family pushed to its extreme, the rest natural-ish."""
    c = {"emotion": "neutral", "expression_scale": float(rng.uniform(0.7, 1.3)),
         "head_motion": float(rng.uniform(0.6, 1.3)), "gaze": (0.0, 0.0),
         "blink_rate": float(rng.uniform(8, 22)), "seed": int(rng.integers(0, 2**31)),
         "lipsync": str(rng.choice(["auto", "phonemes"]))}
    if family == "still_head":
        c["head_motion"] = 0.0
    elif family == "strong_motion":
        c["head_motion"] = float(rng.uniform(1.6, 2.0))
    elif family == "exaggerated":
        c["expression_scale"] = float(rng.uniform(1.6, 2.0))
    elif family == "emotion":
        c["emotion"] = str(rng.choice(["happy", "sad", "angry", "surprised"]))
    elif family == "gaze":
        c["gaze"] = (float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.6, 0.6)))
    elif family == "blink":
        c["blink_rate"] = float(rng.choice([0.0, rng.uniform(35, 60)]))
    elif family == "lipsync_acoustic":
        c["lipsync"] = "acoustic"
    return c


def plan_generations(corpus: Path = DEFAULT_CORPUS, n: int = 80, seed: int = 7, *, motion: str = "procedural",
                     prefix: str = "gen") -> list[dict]:
    """A deterministic plan: photos x audio segments x control families x sizes, for one
    motion planner of the warp engine (each planner's clips have their own name prefix)."""
    rng = np.random.default_rng(seed)
    photos = sorted([p for d in ("photos", "generated") for p in (Path(corpus) / d).iterdir()
                     if p.suffix.lower() in (".jpg", ".jpeg", ".png")])
    audios = sorted(p for p in (Path(corpus) / "audio").iterdir() if p.suffix.lower() in (".wav", ".mp3", ".flac"))
    order = rng.permutation(len(photos))
    plan = []
    for i in range(n):
        photo = photos[order[i % len(photos)]]
        family = FAMILIES[i % len(FAMILIES)]
        audio = audios[int(rng.integers(len(audios)))]
        plan.append({"name": f"{prefix}_{i:03d}", "motion": motion, "photo": str(photo), "audio": str(audio),
                     "audio_start": float(rng.uniform(0, 20)), "seconds": float(rng.uniform(4, 8)),
                     "size": int(rng.choice([512, 512, 512, 384])), "family": family,
                     "controls": _family_controls(family, rng)})
    return plan


def write_wav_segment(src: str, start: float, seconds: float, dst: Path) -> Path:
    """`seconds` of the voice `src` from `start` (or its last `seconds`) as a 44.1 kHz WAV."""
    audio = decode_audio(src, sample_rate=44_100, channels=1)
    n = audio.samples.shape[1]
    want = int(seconds * 44_100)
    s0 = int(start * 44_100)
    if s0 + want > n:
        s0 = max(0, n - want)
    return write_wav(dst, audio.samples[0, s0:s0 + want], 44_100)


def engine_dir(cache: Path = DEFAULT_CACHE) -> Path:
    """Generations are cached per engine version: a new engine gets new training data."""
    return Path(cache) / f"generated-{ENGINE_NAME}-{ENGINE_VERSION}"


def generate_clips(plan: list[dict], cache: Path = DEFAULT_CACHE, *, log=print) -> list[Clip]:
    """Render each planned generation through the real pipeline (watermarked) into `cache`.
    Already rendered clips are reused; photos the face analyser refuses are skipped."""
    marker = VideoWatermarker(TRAINING_REGISTRY_ID)  # used only through FrameMarker.mark
    gen_dir = engine_dir(cache)
    gen_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for item in plan:
        out = gen_dir / f"{item['name']}.mp4"
        meta = gen_dir / f"{item['name']}.json"
        stem = Path(item["photo"]).stem
        if out.exists() and meta.exists():
            clips.append(Clip(**json.loads(meta.read_text())))
            continue
        wav = gen_dir / f"{item['name']}.wav"
        write_wav_segment(item["audio"], item["audio_start"], item["seconds"], wav)
        motion = item.get("motion", "procedural")
        extra = {} if motion == "procedural" else {"motion": motion}
        controls = Controls(**{**item["controls"], "gaze": tuple(item["controls"]["gaze"]), "size": item["size"],
                               **extra})
        tmp = out.with_suffix(".part.mp4")
        try:
            r = generate_video(item["photo"], wav, tmp, marker=marker, controls=controls)
        except InputError as exc:
            log(f"skip {item['name']} ({stem}): {exc.message}")
            continue
        finally:
            wav.unlink(missing_ok=True)
        os.replace(tmp, out)
        clip = Clip(str(out), 1, identity_of(stem), Path(item["photo"]).name, item["family"],
                    {**controls.as_dict(), "audio": Path(item["audio"]).name},
                    f"{r.engine} {r.engine_version}" + ("" if motion == "procedural" else f" {motion} motion"))
        meta.write_text(json.dumps(clip.as_dict()))
        log(f"made {item['name']} {item['family']} {stem} {r.frames} frames in {r.seconds:.1f}s")
        clips.append(clip)
    return clips


FIRST_ENGINE = "veritalk-warp 0.1.0"


def cached_clips(cache: Path = DEFAULT_CACHE, *, engines: str = "current") -> list[Clip]:
    """Cached generations of the current engine ("current") or of every engine seen ("all");
    the first engine's clips (folder `generated/`) carry no engine field and get FIRST_ENGINE."""
    dirs = [engine_dir(cache)] if engines == "current" else sorted(Path(cache).glob("generated*"))
    out = []
    for d in dirs:
        for p in sorted(d.glob("*_[0-9][0-9][0-9].json")):
            c = Clip(**json.loads(p.read_text()))
            out.append(c if c.engine else Clip(**{**c.as_dict(), "engine": FIRST_ENGINE}))
    return out


if __name__ == "__main__":  # python -m detection.corpus: render the planned generations
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    generate_clips(plan_generations(n=n), log=lambda m: print(m, flush=True))
