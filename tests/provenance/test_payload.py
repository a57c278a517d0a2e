"""The payload code: ids round-trip, up to 9 bit errors are corrected, random
words are rejected."""
import numpy as np
import pytest

from provenance.payload import (
    BCH_T,
    CODED_BITS,
    P_ATTEMPT,
    decode_payload,
    decode_soft,
    encode_payload,
    payload_hex,
)


@pytest.mark.parametrize("registry_id", [1, 2, 77, 123456, 2**32 - 1])
def test_round_trip_with_errors_up_to_t(registry_id):
    rng = np.random.default_rng(registry_id)
    bits = encode_payload(registry_id)
    assert bits.size == CODED_BITS == 120
    for n in range(BCH_T + 1):
        noisy = bits.copy()
        noisy[rng.choice(CODED_BITS, n, replace=False)] ^= 1
        assert decode_payload(noisy) == (registry_id, n)


def test_too_many_errors_or_noise_are_rejected():
    rng = np.random.default_rng(0)
    bits = encode_payload(99)
    noisy = bits.copy()
    noisy[rng.choice(CODED_BITS, 20, replace=False)] ^= 1
    assert decode_payload(noisy)[0] in (None, 99)  # never a different id
    accepted = [decode_payload(rng.integers(0, 2, CODED_BITS))[0] for _ in range(5000)]
    assert accepted.count(None) == 5000


def test_ids_outside_32_bits_are_refused():
    for bad in (0, 2**32):
        with pytest.raises(ValueError):
            encode_payload(bad)


def test_hex_form():
    assert payload_hex(5).startswith("00000005") and len(payload_hex(5)) == 16


def test_chase_decoding_corrects_beyond_t_on_unreliable_bits():
    rng = np.random.default_rng(5)
    bits = encode_payload(31337)
    soft = (2.0 * bits - 1) * rng.uniform(0.5, 1.5, CODED_BITS)
    flip = rng.choice(CODED_BITS, BCH_T + 5, replace=False)
    soft[flip] = -0.05 * np.sign(soft[flip])          # 14 errors, all on weak bits
    assert decode_payload((soft > 0).astype(np.uint8))[0] is None
    registry_id, nerr, attempts = decode_soft(soft)
    assert registry_id == 31337 and nerr == BCH_T + 5 and attempts > 1


def test_chase_decoding_rejects_noise_within_the_false_positive_bound():
    rng = np.random.default_rng(6)
    assert all(decode_soft(rng.normal(0, 1, CODED_BITS))[0] is None for _ in range(8))
    # The per-video bound stated in docs/watermark.md: vtss-3's Chase words per geometry,
    # plus the legacy reader (vtss-1: 3 BCH attempts).
    from provenance.videomark import CHASE_FLIPS, MAX_ATTEMPTS
    assert len(CHASE_FLIPS) == MAX_ATTEMPTS
    attempts = sum(2 ** f for f in CHASE_FLIPS) + 3
    assert attempts * P_ATTEMPT < 1e-9
