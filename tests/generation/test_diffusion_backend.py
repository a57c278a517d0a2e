"""The EMO-style diffusion backend on the CPU with tiny random weights in Hallo's
checkpoint layout: it loads through the real loader, renders frames through the
pipeline's watermark stage, and the signed manifest names the backend."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from generation.audio import decode_audio, write_wav
from generation.backends import get_backend
from generation.backends.diffusion import DiffusionBackend
from generation.backends.emo.weights import NET, CheckpointError, load, write_tiny_checkpoint
from generation.controls import Controls
from generation.pipeline import generate_video
from provenance.manifest import build_manifest, read_manifest, sign_file
from provenance.signing import load_signing_material, load_trust_anchor, mint_platform_chain
from provenance.videomark import VideoWatermarker, read_video_watermark
from tests.conftest import corpus_file

TINY = {"steps": 2, "clip_frames": 3, "guidance": 2.0, "threads": 1}


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("diffusion") / "weights")


@pytest.fixture(scope="module")
def one_second_speech(tmp_path_factory):
    """The first second of a real speech clip, as a WAV."""
    audio = decode_audio(corpus_file("audio/sr_english_en.wav"))
    path = tmp_path_factory.mktemp("audio") / "one_second.wav"
    return write_wav(path, audio.mono[: audio.sample_rate], audio.sample_rate)


def test_tiny_checkpoint_has_hallos_layout_and_loads(tiny_weights):
    for part in ("hallo/net.pth", "stable-diffusion-v1-5/unet/config.json", "sd-vae-ft-mse/config.json",
                 "wav2vec/wav2vec2-base-960h/config.json"):
        assert (tiny_weights / part).is_file(), part
    state = torch.load(tiny_weights / NET, weights_only=True)
    assert {k.split(".", 1)[0] for k in state} == {"reference_unet", "denoising_unet", "face_locator", "imageproj",
                                                    "audioproj"}
    model = load(tiny_weights)
    assert model.resolution == 64 and model.audioproj.seq_len == 5


def test_missing_weights_folder_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="VERITALK_DIFFUSION_WEIGHTS"):
        get_backend("diffusion", weights=tmp_path / "nowhere")
    (tmp_path / "hallo").mkdir()
    with pytest.raises(CheckpointError, match="lacks: hallo/net.pth"):
        DiffusionBackend(weights=tmp_path)


def test_net_pth_with_pickled_objects_is_refused(tiny_weights, tmp_path):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(tiny_weights, bad)
    torch.save({"reference_unet.x": torch.zeros(1), "audioproj.note": {"a": object()}}, bad / NET)
    with pytest.raises(CheckpointError, match="tensors only"):
        load(bad)


def test_an_identity_projection_for_other_face_embeddings_is_refused(tmp_path):
    weights = write_tiny_checkpoint(tmp_path / "w512", face_dim=512)
    with pytest.raises(CheckpointError, match="512-d face embeddings.*dlib's 128-d"):
        DiffusionBackend(weights=weights)


def test_a_part_that_does_not_fit_the_model_is_named(tiny_weights, tmp_path):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(tiny_weights, bad)
    state = torch.load(bad / NET, weights_only=True)
    state["denoising_unet.down_blocks.0.motion_modules.0.temporal.weight"] = torch.zeros(2)
    torch.save(state, bad / NET)
    with pytest.raises(CheckpointError, match="denoising_unet.*Hallo's motion/audio modules"):
        load(bad)


def test_tiny_diffusion_end_to_end_watermarked_and_signed(tiny_weights, one_second_speech, tmp_path):
    marker = VideoWatermarker(424242)
    out = tmp_path / "diffusion.mp4"
    controls = Controls(size=256, backend="diffusion", seed=3)
    result = generate_video(corpus_file("photos/elizabeth_olsen.jpg"), one_second_speech, out, marker=marker,
                            controls=controls, backend_options={"weights": tiny_weights, **TINY})
    assert result.backend == "diffusion" and result.engine == "veritalk-diffusion"
    assert result.frames == 25 and result.width == result.height == 256
    assert result.poster.std() > 5          # pixels came out of the VAE, not a blank frame
    reading = read_video_watermark(out)
    assert reading.found and reading.payload == marker.payload
    keys = mint_platform_chain(tmp_path / "keys")
    manifest = build_manifest(title="t", engine=result.engine, engine_version=result.engine_version,
                              backend=result.backend, registry_id=424242,
                              watermark_payload=marker.payload, watermark_codec="test", job_id="j", consent_id=None,
                              policy_version="v", decision_sha256="0" * 64, duration_ms=1000)
    signed = tmp_path / "signed.mp4"
    sign_file(out, signed, manifest, load_signing_material(keys))
    reading = read_manifest(signed, trust_anchor_pem=load_trust_anchor(keys))
    created = next(a for a in reading.manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    agent = created["data"]["actions"][0]["softwareAgent"]
    assert agent["name"] == "veritalk-diffusion" and agent["backend"] == "diffusion"


def test_same_seed_same_frames_and_audio_matters(tiny_weights):
    from generation.audio import Audio
    from generation.images import load_image_file
    backend = DiffusionBackend(weights=tiny_weights, **TINY)
    photo = load_image_file(corpus_file("photos/elizabeth_olsen.jpg"))
    rng = np.random.default_rng(0)
    voice = Audio(samples=(0.1 * rng.standard_normal((1, 4000))).astype(np.float32), sample_rate=16000,
                  container="wav")
    silence = Audio(samples=np.zeros((1, 4000), np.float32), sample_rate=16000, container="wav")
    controls = Controls(size=256, backend="diffusion")

    def frames(audio):
        a = backend.analyse(photo, audio, controls)
        return np.stack(backend.render(a, backend.motion(a, controls), range(3)))

    first, again, quiet = frames(voice), frames(voice), frames(silence)
    assert np.array_equal(first, again)
    assert np.abs(first.astype(int) - quiet.astype(int)).mean() > 0.01
