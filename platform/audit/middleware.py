"""Audit events recorded by a web request are linked into the hash chain after its
response has been sent (Django's request_finished), not before: the client never waits
for the chain. If the response is never closed, or the process dies first, the next
writer, the reaper or audit_verify link them (audit.chain.link_pending)."""
from contextvars import ContextVar

from django.core.signals import request_finished

from .chain import defer_links, end_deferral, link_pending

_link_due: ContextVar[bool] = ContextVar("veritalk_audit_link_due", default=False)


def _link(sender, **kwargs):
    if _link_due.get():
        _link_due.set(False)
        link_pending()


class LinkAfterResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(_link, dispatch_uid="audit.link_after_response")

    def __call__(self, request):
        token = defer_links()
        try:
            return self.get_response(request)
        finally:
            if end_deferral(token):  # only the view's own code defers: nothing after it waits
                _link_due.set(True)
