"""Hallo's net.pth, checked against the facts without its weights: the manifest of all
2,656 keys and shapes (../shared/checkpoints, built from Hallo's own classes). The
networks are built at full size on the meta device, so nothing large is allocated."""
from __future__ import annotations

import json
import re

import pytest
import torch

from bench.media import ROOT
from generation.backends.emo.layout import HALLO_SMALL, PARTS, SD15_UNET, build
from generation.backends.emo.weights import TINY_SMALL, TINY_UNET, CheckpointError, load_strict

MANIFEST = ROOT.parent / "shared" / "checkpoints" / "hallo-net-8fd7c57.keys.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    if not MANIFEST.is_file():
        pytest.skip(f"{MANIFEST} not found (the shared checkpoint facts are absent)")
    return json.loads(MANIFEST.read_text())


@pytest.fixture(scope="module")
def full_net():
    return build(SD15_UNET, "meta", **HALLO_SMALL)


def meta_state(manifest: dict, dtype=torch.float16) -> dict[str, torch.Tensor]:
    return {k: torch.empty(shape, dtype=dtype, device="meta") for k, (shape, _) in manifest["keys"].items()}


def test_full_size_network_has_exactly_the_manifests_keys_and_shapes(manifest, full_net):
    ours = {k: list(v.shape) for k, v in full_net.state_dict().items()}
    theirs = {k: shape for k, (shape, _) in manifest["keys"].items()}
    assert len(theirs) == manifest["n_keys"] == 2656
    assert sorted(set(ours) - set(theirs)) == [] and sorted(set(theirs) - set(ours)) == []
    assert {k: v for k, v in ours.items() if v != theirs[k]} == {}
    per_part = {p: sum(1 for k in ours if k.startswith(p + ".")) for p in PARTS}
    assert per_part == manifest["parts"]
    elements = {p: sum(v.numel() for k, v in full_net.state_dict().items() if k.startswith(p + ".")) for p in PARTS}
    assert elements == manifest["state_dict_elements_per_part"]


def test_motion_and_audio_modules_are_counted_as_in_hallo(full_net, manifest):
    unet = full_net.denoising_unet
    motion = {re.sub(r"\.temporal_transformer.*", "", n) for n, _ in unet.named_parameters() if ".motion_modules." in n}
    audio = {re.sub(r"\.(norm|proj_in|proj_out|transformer_blocks).*", "", n) for n, _ in unet.named_parameters()
             if ".audio_modules." in n}
    assert len(motion) == 21 and len(audio) == 16
    buffers = {f"denoising_unet.{n}": list(b.shape) for n, b in unet.named_buffers()}
    assert buffers == {k: shape for k, (shape, _) in manifest["buffers"].items()}
    assert all(k.endswith("pos_encoder.pe") for k in buffers) and len(buffers) == 42
    # reference attention pairs the two UNets' spatial self-attentions by path
    from generation.backends.emo.reference import self_attentions
    assert list(self_attentions(full_net.reference_unet)) == list(self_attentions(unet))
    assert len(self_attentions(unet)) == 16
    # the reference UNet has no output layers, the denoising one has
    names = set(full_net.state_dict())
    assert not any(k.startswith(("reference_unet.conv_out", "reference_unet.conv_norm_out")) for k in names)
    assert {"denoising_unet.conv_out.weight", "denoising_unet.conv_norm_out.weight"} <= names


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32])
def test_strict_load_of_the_manifests_layout_succeeds(manifest, dtype):
    net = build(SD15_UNET, "meta", **HALLO_SMALL)
    load_strict(net, meta_state(manifest, dtype))
    assert next(net.denoising_unet.parameters()).dtype == dtype      # took the file's tensors
    # and torch's own strict load agrees
    result = build(SD15_UNET, "meta", **HALLO_SMALL).load_state_dict(meta_state(manifest, dtype), strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_a_missing_key_is_named(manifest):
    state = meta_state(manifest)
    gone = ("denoising_unet.mid_block.motion_modules.0.temporal_transformer.transformer_blocks.0."
            "attention_blocks.1.pos_encoder.pe")
    del state[gone]
    with pytest.raises(CheckpointError, match=r"1 missing \(" + re.escape(gone) + r"\)"):
        load_strict(build(SD15_UNET, "meta", **HALLO_SMALL), state)


def test_a_renamed_key_is_named_both_ways(manifest):
    state = meta_state(manifest)
    old = "denoising_unet.up_blocks.3.audio_modules.2.transformer_blocks.0.attn2_2.to_k.weight"
    new = "denoising_unet.up_blocks.3.audio_modules.2.transformer_blocks.0.attn2_lip.to_k.weight"
    state[new] = state.pop(old)
    with pytest.raises(CheckpointError) as err:
        load_strict(build(SD15_UNET, "meta", **HALLO_SMALL), state)
    assert f"1 missing ({old})" in str(err.value) and f"1 unexpected ({new})" in str(err.value)


def test_a_tensor_of_the_wrong_shape_is_named(manifest):
    state = meta_state(manifest)
    state["imageproj.proj.weight"] = torch.empty(3072, 128, device="meta")    # dlib-sized identity input
    with pytest.raises(CheckpointError, match=r"imageproj\.proj\.weight \(3072, 128\) where the network has "
                                              r"\(3072, 512\)"):
        load_strict(build(SD15_UNET, "meta", **HALLO_SMALL), state)


def test_the_tiny_test_network_uses_the_same_key_names(manifest):
    tiny = build(TINY_UNET, "meta", **TINY_SMALL)
    assert list(tiny.state_dict()) == list(build(SD15_UNET, "meta", **HALLO_SMALL).state_dict())
    assert set(tiny.state_dict()) == set(manifest["keys"])
