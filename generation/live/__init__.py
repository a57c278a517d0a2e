"""Live talking portraits: a voice that is still arriving drives frames paced to the
clock, each through the pipeline's watermark stage, streamed as fragmented MP4 and
recorded for signing. A library like the rest of `generation`: no Django here; the
platform's `live` app gates, re-checks consent, signs and registers."""
