"""Photo + voice track -> talking-portrait frames -> MP4.

A pure library (no Django). The pipeline only writes frames that went through a
caller-supplied watermark stage; see `generation.encode`.
"""
