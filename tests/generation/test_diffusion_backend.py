"""The Hallo-style diffusion backend on the CPU with a tiny random-weight folder in
Hallo's layout (net.pth with Hallo's key names, an ONNX face model, a wav2vec2
folder): it loads through the real loader, renders clip by clip through the
pipeline's watermark stage, and the signed manifest names the backend."""
from __future__ import annotations

import json
import wave

import numpy as np
import pytest
import torch

from bench.media import ROOT
from generation.audio import decode_audio
from generation.backends import get_backend
from generation.backends.diffusion import DiffusionBackend
from generation.backends.emo.weights import (
    FACE_MODEL,
    NET,
    CheckpointError,
    load,
    write_face_model,
    write_tiny_checkpoint,
)
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
    pcm = (np.clip(audio.mono[: audio.sample_rate], -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(audio.sample_rate)
        w.writeframes(pcm.tobytes())
    return path


def test_tiny_checkpoint_has_hallos_layout_and_loads(tiny_weights):
    for part in ("hallo/net.pth", "stable-diffusion-v1-5/unet/config.json", "sd-vae-ft-mse/config.json",
                 "wav2vec/wav2vec2-base-960h/config.json", "face_analysis/models/glintr100.onnx"):
        assert (tiny_weights / part).is_file(), part
    state = torch.load(tiny_weights / NET, weights_only=True)
    assert {k.split(".", 1)[0] for k in state} == {"reference_unet", "denoising_unet", "face_locator", "imageproj",
                                                    "audioproj"}
    manifest = ROOT.parent / "shared" / "checkpoints" / "hallo-net-8fd7c57.keys.json"
    if manifest.is_file():      # the same key names as Hallo's real file, at tiny sizes
        assert set(state) == set(json.loads(manifest.read_text())["keys"])
    model = load(tiny_weights)
    assert model.resolution == 64 and model.net.audioproj.seq_len == 5
    assert model.net.imageproj.proj.in_features == 512


def test_a_float16_net_pth_loads_alike(tiny_weights, tmp_path):
    import shutil
    half = tmp_path / "half"
    shutil.copytree(tiny_weights, half)
    state = torch.load(half / NET, weights_only=True)
    torch.save({k: v.half() for k, v in state.items()}, half / NET)
    model = load(half)
    assert model.net.denoising_unet.conv_in.weight.dtype == torch.float32
    ref = state["denoising_unet.conv_in.weight"]
    assert torch.allclose(model.net.denoising_unet.conv_in.weight, ref.half().float())


def test_missing_model_folders_are_named_each(tmp_path):
    with pytest.raises(CheckpointError, match="VERITALK_DIFFUSION_WEIGHTS"):
        get_backend("diffusion", weights=tmp_path / "nowhere")
    (tmp_path / "hallo").mkdir()
    with pytest.raises(CheckpointError) as err:
        DiffusionBackend(weights=tmp_path)
    for name in ("hallo/net.pth", "stable-diffusion-v1-5/unet/config.json", "sd-vae-ft-mse/config.json",
                 "wav2vec/wav2vec2-base-960h/config.json", "face_analysis/models/glintr100.onnx"):
        assert name in str(err.value)


def test_model_folders_named_in_the_settings_are_used_and_checked(tiny_weights, tmp_path):
    with pytest.raises(CheckpointError, match=r"elsewhere/glintr100\.onnx \(the face-recognition ONNX model\)"):
        DiffusionBackend(weights=tiny_weights, face_model=tmp_path / "elsewhere" / "glintr100.onnx", **TINY)
    with pytest.raises(CheckpointError, match=r"w2v/config\.json \(wav2vec2\)"):
        DiffusionBackend(weights=tiny_weights, wav2vec=tmp_path / "w2v", **TINY)
    with pytest.raises(CheckpointError, match=r"Kim_Vocal_2\.onnx \(the vocal separation model\)"):
        DiffusionBackend(weights=tiny_weights, vocal_separator=tmp_path / "Kim_Vocal_2.onnx", **TINY)
    moved = write_face_model(tmp_path / "models" / "face.onnx", 512, seed=4)
    backend = DiffusionBackend(weights=tiny_weights, face_model=moved, **TINY)
    assert backend.paths.face_model == moved


def test_a_unet_config_that_is_not_hallos_is_named(tiny_weights, tmp_path):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(tiny_weights, bad)
    cfg_file = bad / "stable-diffusion-v1-5" / "unet" / "config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg.update(block_out_channels=[16, 32, 64], down_block_types=cfg["down_block_types"][1:],
               up_block_types=cfg["up_block_types"][1:])
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="config.json does not describe Hallo's UNet: .*four levels"):
        load(bad)


def test_net_pth_with_pickled_objects_is_refused(tiny_weights, tmp_path):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(tiny_weights, bad)
    torch.save({"reference_unet.x": torch.zeros(1), "audioproj.note": {"a": object()}}, bad / NET)
    with pytest.raises(CheckpointError, match="tensors only"):
        load(bad)


def test_a_face_model_of_another_size_is_refused(tiny_weights, tmp_path):
    import shutil
    other = tmp_path / "other"
    shutil.copytree(tiny_weights, other)
    write_face_model(other / FACE_MODEL, 128)
    with pytest.raises(CheckpointError, match="gives 128-d face embeddings; net.pth's imageproj takes 512-d"):
        DiffusionBackend(weights=other, **TINY)


def test_a_net_pth_that_is_not_hallos_layout_is_named(tiny_weights, tmp_path):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(tiny_weights, bad)
    state = torch.load(bad / NET, weights_only=True)
    gone = "denoising_unet.down_blocks.0.motion_modules.1.temporal_transformer.proj_out.bias"
    del state[gone]
    state["denoising_unet.down_blocks.0.motion_modules.0.temporal.weight"] = torch.zeros(2)
    torch.save(state, bad / NET)
    with pytest.raises(CheckpointError, match=r"1 missing \(" + gone.replace(".", r"\.") +
                       r"\); 1 unexpected \(denoising_unet\.down_blocks\.0\.motion_modules\.0\.temporal\.weight\)"):
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


def test_clips_carry_motion_frames_and_render_in_any_order(tiny_weights):
    """Clip 1 starts from clip 0's last frames: asking for clip 1 first makes clip 0
    on the way, and gives the same frames as rendering in order; with other
    motion frames (a different clip 0) clip 1 comes out different."""
    from generation.audio import Audio
    from generation.images import load_image_file
    photo = load_image_file(corpus_file("photos/elizabeth_olsen.jpg"))
    rng = np.random.default_rng(2)
    voice = Audio(samples=(0.1 * rng.standard_normal((1, 4000))).astype(np.float32), sample_rate=16000,
                  container="wav")
    controls = Controls(size=256, backend="diffusion", seed=5)
    backend = DiffusionBackend(weights=tiny_weights, **TINY)
    a = backend.analyse(photo, voice, controls)
    in_order = np.stack(backend.render(a, backend.motion(a, controls), range(6)))
    fresh = DiffusionBackend(weights=tiny_weights, **TINY)
    b = fresh.analyse(photo, voice, controls)
    clip1_first = np.stack(fresh.render(b, fresh.motion(b, controls), range(3, 6)))
    assert np.array_equal(in_order[3:], clip1_first)
    carried = fresh._generate_clip(b, 1, None)       # clip 1 from the portrait instead of clip 0's frames
    ours = fresh._generate_clip(b, 1, fresh._generate_clip(b, 0, None))
    assert np.abs(np.stack(carried).astype(int) - np.stack(ours).astype(int)).mean() > 0.01


def test_without_guidance_one_pass_per_step_still_renders(tiny_weights):
    """guidance <= 1 skips the unconditional half (Hallo's do_classifier_free_guidance)."""
    from generation.audio import Audio
    from generation.images import load_image_file
    photo = load_image_file(corpus_file("photos/elizabeth_olsen.jpg"))
    voice = Audio(samples=(0.1 * np.random.default_rng(3).standard_normal((1, 2000))).astype(np.float32),
                  sample_rate=16000, container="wav")
    controls = Controls(size=256, backend="diffusion", seed=1)

    def frames(guidance):
        backend = DiffusionBackend(weights=tiny_weights, **{**TINY, "guidance": guidance})
        a = backend.analyse(photo, voice, controls)
        return np.stack(backend.render(a, backend.motion(a, controls), range(3)))

    plain, guided = frames(1.0), frames(2.0)
    assert plain.shape == guided.shape == (3, 256, 256, 3) and plain.std() > 5
    assert np.abs(plain.astype(int) - guided.astype(int)).mean() > 0.01
