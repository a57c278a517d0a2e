"""Readers of retired watermark codecs, kept so that copies of older outputs stay
traceable. Nothing here embeds: new outputs use provenance.videomark. Every reader
returns provenance.spread.WatermarkReading."""
