"""Audit events recorded by a web request are linked into the hash chain after its
response has been sent (Django's request_finished), not before: the client never waits
for the chain, and the next writer, the reaper or audit_verify link them if the process
dies first (audit.chain.link_pending)."""
from django.core.signals import request_finished

from .chain import defer_links, finish_deferred_links


def _link(sender, **kwargs):
    finish_deferred_links()


class LinkAfterResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(_link, dispatch_uid="audit.link_after_response")

    def __call__(self, request):
        defer_links()
        return self.get_response(request)
