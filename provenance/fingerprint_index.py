"""A nearest-neighbour index of the registry's face descriptors (faiss HNSW, inner
product on unit vectors): the registry-assisted recovery looks up the few outputs a
suspect copy looks like without scanning every output. A query asks with the copy's
descriptor and with its mirror image, so a horizontally flipped copy finds its output.
The descriptor (a grey face crop) tells faces apart only so far: two frontal portraits of
different people can correlate more than a grey, squeezed copy with its own output. So
where both sides have an identity embedding, outputs of another person rank after every
output that may show this one (fingerprint.other_person).
"""
from __future__ import annotations

import threading

import faiss
import numpy as np

from .fingerprint import DESCRIPTOR_DIM, mirrored, other_person, similarity

HNSW_NEIGHBOURS = 32        # graph degree (faiss's M)
SEARCH_DEPTH = 2000        # efSearch: candidates explored per query (twice the shortlist: HNSW is approximate)
SHORTLIST = 1000            # ids the index ranks before they are scored over what the query shows
MIN_SIMILARITY = 0.6        # below this a neighbour is not a candidate (unrelated faces score 0.5 at most)


class FingerprintIndex:
    """Registry id -> descriptor, searchable. Thread-safe; adding an id twice is ignored."""

    def __init__(self):
        base = faiss.IndexHNSWFlat(DESCRIPTOR_DIM, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efSearch = SEARCH_DEPTH
        self._index = faiss.IndexIDMap2(base)
        self._ids: set[int] = set()
        self._identity: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, registry_id: int) -> bool:
        return registry_id in self._ids

    def add(self, items) -> int:
        """Add (registry id, descriptor) or (registry id, descriptor, identity embedding or
        None) items; returns how many were new."""
        new = [(int(item[0]), item[1], item[2] if len(item) > 2 else None) for item in items
               if item[1] is not None and int(item[0]) not in self._ids]
        if not new:
            return 0
        ids = np.array([i for i, _, _ in new], np.int64)
        vecs = np.ascontiguousarray(np.stack([d for _, d, _ in new]).astype(np.float32))
        with self._lock:
            self._index.add_with_ids(vecs, ids)
            self._ids.update(int(i) for i in ids)
            self._identity.update((i, e) for i, _, e in new if e is not None)
        return len(new)

    def search(self, descriptor: np.ndarray, k: int = 5, *, min_similarity: float = MIN_SIMILARITY,
               identity: np.ndarray | None = None):
        """The k registry ids nearest to the descriptor or to its mirror: [(id, similarity, mirrored)],
        most similar first. The index's inner product ranks a shortlist (a query that lacks
        part of its crop scores low there); the shortlist is then scored by
        fingerprint.similarity, over the part the query shows. With the query's `identity`,
        outputs known to show another person come after all the others."""
        if descriptor is None or not self._ids:
            return []
        queries = np.stack([descriptor, mirrored(descriptor)]).astype(np.float32)
        with self._lock:
            _, ids = self._index.search(queries, min(max(k, SHORTLIST), len(self._ids)))
            stored = {int(i): self._index.reconstruct(int(i)) for i in np.unique(ids) if i >= 0}
        best: dict[int, tuple[float, bool]] = {}
        for row, flip in ((0, False), (1, True)):
            for i in ids[row]:
                if i < 0:
                    continue
                s = similarity(queries[row], stored[int(i)])
                if s >= min_similarity and s > best.get(int(i), (-2.0, False))[0]:
                    best[int(i)] = (s, flip)
        def rank(item):
            i, (s, _) = item
            return other_person(identity, self._identity.get(i)), -s
        return [(i, s, f) for i, (s, f) in sorted(best.items(), key=rank)[:k]]
