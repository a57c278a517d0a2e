"""The watermark payload: a registry id, a check, and BCH error correction.

64 information bits = 32-bit registry id + 32-bit check (CRC-32 over the id with
a domain tag), protected by BCH(127, t=9) into 120 coded bits. The decoder
corrects up to 9 bit errors; a word is accepted only if the check matches, so a
random word is accepted with probability at most 2**-32 per decoding attempt.
"""
from __future__ import annotations

import zlib
from math import comb

import bchlib
import numpy as np

ID_BITS = 32
CHECK_BITS = 32
INFO_BITS = ID_BITS + CHECK_BITS
BCH_T = 9
_bch = bchlib.BCH(BCH_T, m=7)
ECC_BITS = _bch.ecc_bits
CODED_BITS = INFO_BITS + ECC_BITS          # 120
_DOMAIN = b"veritalk-watermark-v1"


def _check(registry_id: int) -> int:
    return zlib.crc32(_DOMAIN + registry_id.to_bytes(4, "big")) & 0xFFFFFFFF


def _bits(data: bytes, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, np.uint8))[:n]


def info_bytes(registry_id: int) -> bytes:
    if not 0 < registry_id < 2 ** ID_BITS:
        raise ValueError(f"registry id {registry_id} does not fit in {ID_BITS} bits")
    return registry_id.to_bytes(4, "big") + _check(registry_id).to_bytes(4, "big")


def encode_payload(registry_id: int) -> np.ndarray:
    """The 120 coded bits (uint8 0/1) to embed for `registry_id`."""
    data = info_bytes(registry_id)
    ecc = _bch.encode(bytearray(data))
    return np.concatenate([_bits(data, INFO_BITS), _bits(bytes(ecc), ECC_BITS)]).astype(np.uint8)


def decode_payload(bits) -> tuple[int | None, int]:
    """(registry id, corrected bit errors) from 120 hard bits; (None, -1) when the
    word is uncorrectable or its check fails."""
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    if bits.size != CODED_BITS:
        return None, -1
    data = bytearray(np.packbits(bits[:INFO_BITS]).tobytes())
    padding = np.zeros(_bch.ecc_bytes * 8 - ECC_BITS, np.uint8)
    ecc = bytearray(np.packbits(np.concatenate([bits[INFO_BITS:], padding])).tobytes())
    nerr = _bch.decode(data, ecc)
    if nerr < 0:
        return None, -1
    if nerr > 0:
        _bch.correct(data, ecc)
    registry_id = int.from_bytes(data[:4], "big")
    if registry_id == 0 or int.from_bytes(data[4:], "big") != _check(registry_id):
        return None, -1
    return registry_id, nerr


def payload_hex(registry_id: int) -> str:
    """The 64 information bits as hex: what the registry stores and auditors see."""
    return info_bytes(registry_id).hex()


CHASE_BITS = 12   # soft decoding flips every pattern of the 12 least reliable bits: 4096 attempts


def decode_soft(soft, *, flips: int = CHASE_BITS) -> tuple[int | None, int, int]:
    """Chase decoding of 120 soft bits (> 0 means 1): BCH-decode the hard word with
    every pattern of the `flips` least reliable bits inverted, cheapest first, and
    accept the first word whose 32-bit check holds.

    Returns (registry id or None, bit errors against the hard word, attempts). Each
    attempt accepts a random word with probability at most P_ATTEMPT, so a whole
    decoding with A attempts accepts noise with probability at most A * P_ATTEMPT."""
    soft = np.asarray(soft, dtype=np.float64).ravel()
    if soft.size != CODED_BITS:
        return None, -1, 0
    hard = (soft > 0).astype(np.uint8)
    weak = np.argsort(np.abs(soft))[:flips]
    patterns = np.arange(2 ** flips, dtype=np.int64)
    masks = ((patterns[:, None] >> np.arange(flips)) & 1).astype(bool)
    cost = masks @ np.abs(soft[weak])
    for k, p in enumerate(np.argsort(cost, kind="stable")):
        word = hard.copy()
        word[weak[masks[p]]] ^= 1
        registry_id, nerr = decode_payload(word)
        if registry_id is not None:
            return registry_id, int(nerr + masks[p].sum()), k + 1
    return None, -1, 2 ** flips


def _p_attempt() -> float:
    """Probability that one BCH decoding of a uniformly random 120-bit word succeeds
    and its 32-bit check then holds: (2**64 codewords x Hamming ball of radius 9)
    / 2**120, times 2**-32."""
    ball = sum(comb(CODED_BITS, i) for i in range(BCH_T + 1))
    return ball * 2.0 ** (INFO_BITS - CODED_BITS) * 2.0 ** -CHECK_BITS


P_ATTEMPT = _p_attempt()
