"""The registry's face-descriptor index (provenance.fingerprint_index), kept in step
with the issued outputs: built on first use in a process, then only the entries issued
since are added. A hit is checked against the entry's stored descriptor, so an index
left over from another database (tests) cannot name the wrong output."""
from __future__ import annotations

import threading

import numpy as np
from django.db import connection

from provenance import fingerprint as fp
from provenance.fingerprint_index import FingerprintIndex

from .models import RegistryEntry

_lock = threading.Lock()
# Per database: the index and every entry id already looked at (entries without a
# descriptor, older outputs or faceless ones, are remembered too, so they are not read
# again on every look-up).
_indexes: dict[str, tuple[FingerprintIndex, set[int]]] = {}


def _issued():
    return RegistryEntry.objects.filter(state=RegistryEntry.State.ISSUED).exclude(fingerprint=None)


def current_index() -> FingerprintIndex:
    """This database's index, with every issued output's descriptor in it."""
    key = str(connection.settings_dict.get("NAME"))
    with _lock:
        index, seen = _indexes.setdefault(key, (FingerprintIndex(), set()))
        missing = set(_issued().values_list("pk", flat=True)) - seen
        if missing:
            rows = _issued().filter(pk__in=missing).values_list("pk", "fingerprint")
            index.add((pk, fp.descriptor_of(stored), fp.identity_of(stored))
                      for pk, stored in rows.iterator(chunk_size=2000))
            seen.update(missing)
    return index


def nearest(descriptor: np.ndarray, k: int, *, identity: np.ndarray | None = None) -> list[tuple[RegistryEntry, float]]:
    """The k issued entries nearest to the descriptor (or to its mirror image), entries of
    another person (by `identity`, where both sides have one) last."""
    hits = current_index().search(descriptor, k, identity=identity)
    entries = {e.pk: e for e in RegistryEntry.objects.select_related("job").filter(
        pk__in=[h[0] for h in hits], state=RegistryEntry.State.ISSUED)}
    out = []
    for pk, similarity, flipped in hits:
        entry = entries.get(pk)
        stored = fp.descriptor_of(entry.fingerprint) if entry is not None else None
        if stored is None:
            continue
        query = fp.mirrored(descriptor) if flipped else descriptor
        if abs(fp.similarity(query, stored) - similarity) < 0.02:   # the index speaks of this entry
            out.append((entry, similarity))
    return out
