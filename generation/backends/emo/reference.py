"""Hallo's reference attention: the reference UNet runs once per clip on the portrait
(and on the previous clip's last frames) and remembers the input of every spatial
self-attention; in the denoising UNet the same layer's self-attention also attends to
the portrait's tokens. The unconditional half of a guided batch gets no reference,
as in Hallo. The mid block's memory of the previous frames also feeds its motion module."""
from __future__ import annotations

import torch
from diffusers.models.attention_processor import AttnProcessor2_0


class ReferenceBank:
    """What the reference UNet wrote, keyed by the attention's path (the same in both UNets).

    Written states have (halves * (1 + motion_frames), tokens, C) rows: per half (the
    unconditional one first when guided), the portrait then the motion frames."""

    def __init__(self):
        self.states: dict[str, torch.Tensor] = {}
        self.mode = "off"          # "write" while the reference UNet runs, "read" while denoising
        self.halves = 1
        self.uncond = 0            # leading rows of the denoising batch that read no reference

    def reference(self, name: str) -> torch.Tensor:
        """(1, tokens, C): the conditional half's portrait tokens for this layer."""
        states = self.states[name]
        per_half = states.shape[0] // self.halves
        return states[(self.halves - 1) * per_half][None]

    def motion_frames(self, name: str, size: tuple[int, int]) -> torch.Tensor | None:
        """(halves, n, C, H, W): the previous frames' tokens of this layer, or None."""
        states = self.states.get(name)
        if states is None:
            return None
        per_half = states.shape[0] // self.halves
        if per_half < 2:
            return None
        rows = states.reshape(self.halves, per_half, *states.shape[1:])[:, 1:]      # (halves, n, tokens, C)
        return rows.permute(0, 1, 3, 2).reshape(rows.shape[0], rows.shape[1], rows.shape[3], *size)

    def clear(self) -> None:
        self.states, self.mode, self.uncond = {}, "off", 0


class ReferenceAttnProcessor:
    """attn1 of a spatial transformer block: remember the input (write) or attend to the
    reference as well (read); otherwise plain self-attention."""

    def __init__(self, bank: ReferenceBank, name: str):
        self.bank, self.name = bank, name
        self.plain = AttnProcessor2_0()

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        bank = self.bank
        if bank.mode == "write":
            bank.states[self.name] = hidden_states
        elif bank.mode == "read" and self.name in bank.states:
            ref = bank.reference(self.name).to(hidden_states.dtype)
            u = bank.uncond
            cond = hidden_states[u:]
            context = torch.cat([cond, ref.expand(cond.shape[0], -1, -1)], dim=1)
            out = self.plain(attn, cond, context, attention_mask)
            if u:
                out = torch.cat([self.plain(attn, hidden_states[:u], None, attention_mask), out])
            return out
        return self.plain(attn, hidden_states, None, attention_mask)


def self_attentions(unet) -> dict[str, torch.nn.Module]:
    """The spatial transformer blocks' attn1 modules, by path."""
    return {name: module for name, module in unet.named_modules()
            if name.endswith(".attn1") and ".attentions." in name and "motion_modules" not in name}


def install(unet, bank: ReferenceBank) -> None:
    for name, attn in self_attentions(unet).items():
        attn.set_processor(ReferenceAttnProcessor(bank, name.rsplit(".attn1", 1)[0]))
