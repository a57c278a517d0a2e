"""Shared fixtures: the real-media corpus (tests skip when it is absent), small
generated inputs, signing material and users."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.media import CORPUS
from generation.audio import write_wav


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"corpus file {relative} not found in {CORPUS} (the shared test corpus is absent)")
    return path


@pytest.fixture
def portrait() -> Path:
    return corpus_file("photos/elizabeth_olsen.jpg")


@pytest.fixture
def short_speech() -> Path:
    return corpus_file("audio/sr_english_en.wav")


@pytest.fixture
def two_faces_png(tmp_path) -> Path:
    """Two corpus portraits side by side: a photo with two people."""
    a = Image.open(corpus_file("photos/obama_1.jpg")).convert("RGB").resize((400, 500))
    b = Image.open(corpus_file("photos/biden_2.jpg")).convert("RGB").resize((400, 400))
    canvas = Image.new("RGB", (840, 520), (200, 200, 200))
    canvas.paste(a, (10, 10))
    canvas.paste(b, (430, 60))
    path = tmp_path / "two_faces.png"
    canvas.save(path)
    return path


@pytest.fixture
def no_face_png(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    sky = np.linspace(80, 220, 480)[:, None, None] * np.ones((480, 640, 3)) + rng.normal(0, 6, (480, 640, 3))
    path = tmp_path / "landscape.png"
    Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image, whatever its name says\n")
    return path


@pytest.fixture
def corrupt_audio(tmp_path) -> Path:
    """The start of a real MP3 followed by garbage: looks like MP3, cannot be decoded."""
    data = corpus_file("audio/vctk_p240_en.mp3").read_bytes()
    path = tmp_path / "corrupt.mp3"
    rng = np.random.default_rng(1)
    path.write_bytes(data[:400] + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    return path


@pytest.fixture
def long_audio(tmp_path) -> Path:
    """A real, valid WAV longer than the test limit (30 s)."""
    sr = 8000
    t = np.arange(sr * 40) / sr
    return write_wav(tmp_path / "long.wav", 0.2 * np.sin(2 * np.pi * 220 * t), sr)


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()
