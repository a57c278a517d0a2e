"""The watermark payload: a registry id, a check, and BCH error correction.

64 information bits = 32-bit registry id + 32-bit check (CRC-32 over the id with
a domain tag), protected by BCH(127, t=9) into 120 coded bits. The decoder
corrects up to 9 bit errors; a word is accepted only if the check matches, so a
random word is accepted with probability at most 2**-32 per decoding attempt.
"""
from __future__ import annotations

import zlib

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
    ecc = bytearray(np.packbits(np.concatenate([bits[INFO_BITS:], np.zeros(_bch.ecc_bytes * 8 - ECC_BITS, np.uint8)])).tobytes())
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
