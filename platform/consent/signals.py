"""What other apps hear from consent, so that consent needs none of them: a revocation
(`consent_revoked`, sent inside the revoking transaction with `consent` and `actor`) is
answered by jobs (queued jobs cancelled) and the registry (outputs marked revoked);
their receivers are connected in their AppConfig.ready()."""
from django.dispatch import Signal

consent_revoked = Signal()
