"""English phone timing with pocketsphinx's bundled en-us model (offline).

The phone-loop search (`allphone` with the bundled phonetic language model) gives
a phone sequence with times without needing a transcript. Audio is fed in blocks
and the utterance is cut every `UTTERANCE_SECONDS`, so memory stays constant."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

UTTERANCE_SECONDS = 20.0
FILLERS = {"SIL", "+NSN+", "+SPN+", "+BREATH+", "+NOISE+", "+COUGH+", "+UH+", "+UM+", "+SMACK+"}


@dataclass(frozen=True)
class Phone:
    label: str
    start: float   # seconds
    end: float


def available() -> bool:
    try:
        import pocketsphinx  # noqa: F401, PLC0415 - optional (pocketsphinx): English phones when installed
    except ImportError:
        return False
    return True


def new_decoder():
    """A fresh decoder per voice track: pocketsphinx adapts its cepstral mean from one
    utterance to the next, so a reused decoder would make results depend on the
    previous job (and break same-inputs-same-frames)."""
    from pocketsphinx import Decoder, get_model_path  # noqa: PLC0415 - optional (pocketsphinx): English phones when installed
    model = get_model_path("en-us")
    return Decoder(hmm=os.path.join(model, "en-us"), allphone=os.path.join(model, "en-us-phone.lm.bin"),
                   lw=2.0, beam=1e-10, pbeam=1e-10, loglevel="FATAL", cmninit="40,3,-1")


class PhoneAligner:
    """Feed 16 kHz mono float blocks in order, then `finish()` for the phones."""

    def __init__(self, sample_rate: int = 16_000):
        if sample_rate != 16_000:
            raise ValueError("pocketsphinx's en-us model needs 16 kHz audio")
        self.sr = sample_rate
        self.phones: list[Phone] = []
        self._offset = 0          # samples before the current utterance
        self._in_utt = 0          # samples in the current utterance
        self._started = False
        self._decoder = new_decoder()

    def _start(self):
        self._decoder.start_utt()
        self._started = True

    def _end(self):
        d = self._decoder
        d.end_utt()
        base = self._offset / self.sr
        for s in d.seg():
            self.phones.append(Phone(s.word, base + s.start_frame / 100.0, base + (s.end_frame + 1) / 100.0))
        self._offset += self._in_utt
        self._in_utt = 0
        self._started = False

    def feed(self, mono: np.ndarray) -> None:
        pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)
        pos = 0
        limit = int(UTTERANCE_SECONDS * self.sr)
        while pos < len(pcm):
            if not self._started:
                self._start()
            take = min(len(pcm) - pos, limit - self._in_utt)
            self._decoder.process_raw(pcm[pos:pos + take].tobytes(), False, False)
            self._in_utt += take
            pos += take
            if self._in_utt >= limit:
                self._end()

    def finish(self) -> list[Phone]:
        if self._started:
            self._end()
        return self.phones

    def abort(self) -> None:
        if self._started:
            self._started = False
            self._decoder.end_utt()


def coverage(phones: list[Phone], voiced: np.ndarray, fps: int) -> float:
    """Share of voiced frames explained by speech phones (not fillers or noise): how far
    the English recogniser found English-like phones where there is voice."""
    if not voiced.any():
        return 0.0
    covered = np.zeros(len(voiced), bool)
    for p in phones:
        if p.label not in FILLERS:
            covered[int(p.start * fps): int(np.ceil(p.end * fps))] = True
    return float((covered & voiced).sum() / voiced.sum())
