"""How often the registry path recovers a copy re-encoded twice with a resize between, for
one output rendered with several registry ids (the payload, hence the pattern, changes with
the id): `python -m bench.watermark_two_generations --ids 101 202 303 --json`.

For each id: the photo and voice rendered at 512x512 with the watermark (the mark residual
kept beside the output, as a job keeps it), the copy made as
tests/platform/test_verify_reposted_copies.py makes it (CRF 28, then 70 % at CRF 28), aligned
to the output and read by the registry path's informed test, with the output's unmarked
picture taken out (as verify does) and without (as before). Prints each statistic against
INFORMED_THRESHOLD and how many were recovered."""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from bench import attacks
from bench.media import CORPUS
from generation.controls import Controls
from generation.pipeline import generate_video
from provenance import mark_residual
from provenance import registry_recovery as rr
from provenance.videomark import VideoWatermarker


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "obama_2.jpg")
    p.add_argument("--audio", type=Path, default=CORPUS / "audio" / "sr_english_en.wav")
    p.add_argument("--ids", type=int, nargs="+", default=[101, 202, 303, 404, 505, 606, 707, 808])
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for rid in a.ids:
            out = work / f"out_{rid}.mp4"
            marker = VideoWatermarker(rid)
            generate_video(a.photo, a.audio, out, marker=marker, controls=Controls(size=512))
            o = rr.pooled_luma(out)
            mark_residual.write_for(out, o.mean, marker.host_mean())
            copy = attacks.two_generations(out, work / f"copy_{rid}.mp4")
            c = rr.pooled_luma(copy)
            alignment = rr.align(c.mean, o.mean)
            row = {"registry_id": rid}
            for key, host in (("", mark_residual.host_of(out, o.mean)), ("without_host_", None)):
                r = rr.informed_reading(c, alignment, o.total.shape, rid, host=host) if alignment else None
                row.update({f"{key}statistic": round(r.statistic, 2) if r else None,
                            f"{key}bit_errors": r.bit_errors if r else None, f"{key}recovered": bool(r and r.found)})
            rows.append(row)
    result = {"photo": a.photo.name, "threshold": rr.INFORMED_THRESHOLD, "copies": rows, "of": len(rows)}
    for key in ("", "without_host_"):
        stats = [x[f"{key}statistic"] for x in rows if x[f"{key}statistic"] is not None]
        result[f"{key}recovered"] = sum(x[f"{key}recovered"] for x in rows)
        result[f"{key}mean_statistic"] = round(float(np.mean(stats)), 2) if stats else None
        result[f"{key}min_statistic"] = round(float(np.min(stats)), 2) if stats else None
    print(json.dumps(result) if a.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
