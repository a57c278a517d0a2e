"""The diffusion backend's own preprocessing, from local models only: the identity
embedding through an ONNX face-recognition model (a tiny random one exported here),
wav2vec2 hidden states from a local folder (a tiny random model saved here), and the
face / lip masks from dlib's landmarks on a real portrait."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from generation.audio import decode_audio
from generation.backends.emo.audio_features import AudioModelError, Wav2Vec2Features, separate_vocals, windows
from generation.backends.emo.face_inputs import (
    ARCFACE_POINTS,
    FaceEmbedder,
    FaceModelError,
    align_face,
    face_masks,
    five_points,
)
from generation.face import analyse_face
from generation.framing import frame_portrait
from generation.images import load_image_file
from tests.conftest import corpus_file


class RecognitionNet(torch.nn.Module):
    """Shaped like an ArcFace model: 112 x 112 RGB crop -> 512 numbers; random weights."""

    def __init__(self, raw_pixels: bool = False):
        super().__init__()
        self.raw_pixels = raw_pixels
        self.conv = torch.nn.Conv2d(3, 4, 7, stride=7)
        self.fc = torch.nn.Linear(4 * 16 * 16, 512)

    def forward(self, x):
        if self.raw_pixels:           # a model that normalises inside its graph (Sub, Mul first)
            x = (x - 127.5) * (1 / 127.5)
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


def export(net: torch.nn.Module, path) -> torch.nn.Module:
    torch.onnx.export(net.eval(), (torch.zeros(1, 3, 112, 112),), str(path), input_names=["data"],
                      output_names=["embedding"], dynamic_axes={"data": {0: "n"}}, dynamo=False)
    return net


@pytest.fixture(scope="module")
def framed():
    rgb = load_image_file(corpus_file("photos/elizabeth_olsen.jpg"))
    return frame_portrait(rgb, analyse_face(rgb), 512)


def test_alignment_puts_the_five_points_on_arcfaces(framed):
    crop = align_face(framed.image, framed.landmarks)
    assert crop.shape == (112, 112, 3)
    # the same similarity moves the points: warp the point set and compare
    import cv2
    m, _ = cv2.estimateAffinePartial2D(five_points(framed.landmarks), ARCFACE_POINTS, method=cv2.RANSAC,
                                       ransacReprojThreshold=1e4)
    moved = five_points(framed.landmarks) @ m[:, :2].T + m[:, 2]
    assert np.abs(moved - ARCFACE_POINTS).max() < 4.0


@pytest.mark.parametrize("raw_pixels", [False, True])
def test_onnx_embedding_matches_the_model_on_the_aligned_face(framed, tmp_path, raw_pixels):
    torch.manual_seed(1)
    net = export(RecognitionNet(raw_pixels), tmp_path / "glintr100.onnx")
    faces = FaceEmbedder(tmp_path / "glintr100.onnx")
    assert faces.dim == 512 and faces.size == 112
    emb = faces.embed(framed.image, framed.landmarks)
    crop = torch.from_numpy(align_face(framed.image, framed.landmarks).astype(np.float32)).permute(2, 0, 1)[None]
    expected = net(crop if raw_pixels else (crop - 127.5) / 127.5)[0].detach().numpy()
    assert emb.shape == (512,) and np.allclose(emb, expected, atol=1e-4)
    other = load_image_file(corpus_file("photos/obama_1.jpg"))
    other_face = analyse_face(other)
    assert not np.allclose(faces.embed(other, other_face.landmarks), emb, atol=1e-3)


def test_a_file_that_is_not_an_onnx_model_is_named(tmp_path):
    bad = tmp_path / "glintr100.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(FaceModelError, match="glintr100.onnx is not a usable ONNX model"):
        FaceEmbedder(bad)
    with pytest.raises(FaceModelError, match="nowhere.onnx not found"):
        FaceEmbedder(tmp_path / "nowhere.onnx")


@pytest.fixture(scope="module")
def tiny_wav2vec(tmp_path_factory):
    from transformers import Wav2Vec2Config, Wav2Vec2Model
    folder = tmp_path_factory.mktemp("w2v") / "wav2vec2-base-960h"
    torch.manual_seed(0)
    Wav2Vec2Model(Wav2Vec2Config(hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64,
                                 conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                                 num_conv_pos_embedding_groups=2)).save_pretrained(folder)
    return folder


def test_wav2vec2_states_per_frame_padded_to_whole_clips(tiny_wav2vec):
    voice = Wav2Vec2Features(tiny_wav2vec)
    speech = decode_audio(corpus_file("audio/sr_english_en.wav")).mono[:16000]       # one second
    feats = voice(speech, fps=25, clip_frames=16)
    assert feats.shape == (32, 3, 32) and np.isfinite(feats).all()       # 25 frames -> two clips of 16
    quiet = voice(np.zeros_like(speech), fps=25, clip_frames=16)
    assert np.abs(feats[:25] - quiet[:25]).mean() > 1e-3
    assert voice(speech[:8000], fps=25, clip_frames=1).shape[0] == 13     # ceil(0.5 s * 25)


def test_wav2vec2_layer_outputs_are_transformers_hidden_states(tiny_wav2vec):
    """The layers are read with hooks after the features are resampled to the frames;
    without resampling they must equal transformers' own hidden_states[1:]."""
    voice = Wav2Vec2Features(tiny_wav2vec)
    wav = torch.from_numpy(np.random.default_rng(0).standard_normal(16000).astype(np.float32))[None]
    m = voice.model
    with torch.no_grad():
        cnn = m.feature_extractor(wav)
        frames = cnn.shape[-1]
        reference = m(wav, output_hidden_states=True).hidden_states[1:]
    ours = voice.encode(cnn)
    assert ours.shape == (frames, 3, 32)
    for i, layer in enumerate(reference):
        assert torch.allclose(torch.from_numpy(ours[:, i]), layer[0], atol=1e-5)


def test_a_missing_wav2vec2_folder_is_named(tmp_path):
    with pytest.raises(AudioModelError, match="wav2vec2 folder .*nowhere not found"):
        Wav2Vec2Features(tmp_path / "nowhere")


def test_windows_clamp_at_the_ends():
    w = windows(np.arange(4)[:, None].astype(np.float32), 5)
    assert w.shape == (4, 5, 1)
    assert w[0, :, 0].tolist() == [0, 0, 0, 1, 2] and w[3, :, 0].tolist() == [1, 2, 3, 3, 3]


def test_masks_follow_the_face_and_the_lips(framed):
    region, masks = face_masks(framed.landmarks, 512, 64)
    lm = framed.landmarks
    assert region.shape == (512, 512, 3) and set(np.unique(region)) == {0.0, 1.0}
    x0, y0 = np.floor(lm.min(0)).astype(int)
    x1, y1 = np.ceil(lm.max(0)).astype(int)
    assert region[y0:y1, x0:x1].mean() > 0.97          # the whole face is in the locator's region
    assert region.mean() < 0.6
    assert [len(m) for m in (masks["full"][0], masks["full"][1], masks["full"][2], masks["full"][3])] == \
        [64 * 64, 32 * 32, 16 * 16, 8 * 8]
    for name in ("full", "face", "lip"):
        for m in masks[name]:
            assert m.min() >= 0 and m.max() <= 1
    lip = masks["lip"][0].reshape(64, 64)
    mouth = lm[48:68].mean(0) / 8
    peak = np.unravel_index(lip.argmax(), lip.shape)
    assert abs(peak[1] - mouth[0]) < 4 and abs(peak[0] - mouth[1]) < 4
    full, face = masks["full"][0].reshape(64, 64), masks["face"][0].reshape(64, 64)
    centre = lm[27:36].mean(0) / 8                       # the nose: face, not background or lips
    cy, cx = int(centre[1]), int(centre[0])
    assert face[cy, cx] > 0.5 and full[cy, cx] < 0.5 and full[0, 0] > 0.9


def test_vocal_separation_names_what_it_lacks(tmp_path):
    with pytest.raises(AudioModelError, match="vocal separation model .*Kim_Vocal_2.onnx not found"):
        separate_vocals(np.zeros(16000, np.float32), tmp_path / "Kim_Vocal_2.onnx", tmp_path / "work")
    try:
        import audio_separator  # noqa: F401
    except ImportError:
        (tmp_path / "Kim_Vocal_2.onnx").write_bytes(b"x")
        with pytest.raises(AudioModelError, match="needs the audio-separator package"):
            separate_vocals(np.zeros(16000, np.float32), tmp_path / "Kim_Vocal_2.onnx", tmp_path / "work")
