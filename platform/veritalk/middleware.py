"""Request-level limits that Django does not apply to file uploads: the body's size,
and how many upload-reading requests a web process runs at once."""
import threading
import time
import zoneinfo

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from .timing import add_wait


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than the biggest legitimate upload before Django spools
    them to disk (a photo, a voice track and form fields)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.VERITALK_MAX_REQUEST_BYTES
        if length > limit:
            return JsonResponse({"code": "file_too_large",
                                 "message": f"the request is {length:,} bytes; the limit is {limit:,}"}, status=413)
        return self.get_response(request)


def heavy_request(view):
    """Marks a function view whose POST reads uploads (see HeavyRequestLimitMiddleware)."""
    view.heavy_request = True
    return view


def _is_heavy(view_func, method: str) -> bool:
    """A view marked with @heavy_request, or a DRF view whose class lists the action (or
    the method) in `heavy_requests`."""
    if getattr(view_func, "heavy_request", False):
        return True
    cls = getattr(view_func, "cls", None)
    action = (getattr(view_func, "actions", None) or {}).get(method.lower(), method.lower())
    return action in getattr(cls, "heavy_requests", ())


class HeavyRequestLimitMiddleware:
    """At most VERITALK_WEB_HEAVY_CONCURRENCY requests that read uploads run at once in
    this process (per process, so a web tier of W processes runs W times that). The
    others wait for a slot, up to VERITALK_WEB_HEAVY_WAIT_SECONDS, then get a 503 with
    Retry-After: a burst of uploads queues instead of taking every thread from the reads."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.slots = threading.BoundedSemaphore(settings.VERITALK_WEB_HEAVY_CONCURRENCY)

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            if getattr(request, "_heavy_slot", False):
                request._heavy_slot = False
                self.slots.release()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not _is_heavy(view_func, request.method):
            return None
        wait = settings.VERITALK_WEB_HEAVY_WAIT_SECONDS
        started = time.perf_counter()
        got = self.slots.acquire(timeout=wait)
        add_wait("slot", time.perf_counter() - started)
        if not got:
            retry = max(1, round(wait))
            message = "the server is busy with other uploads; try again in a moment"
            if request.path.startswith("/api/"):
                response = JsonResponse({"detail": message, "code": "busy"}, status=503)
            else:
                response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(retry)
            return response
        request._heavy_slot = True
        return None


class ReaderTimeZoneMiddleware:
    """Dates and times in the reader's time zone: the portal's pages set a `tz` cookie
    from the browser (Intl.DateTimeFormat); a zone Python does not know is ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get("tz", "")
        try:
            zone = zoneinfo.ZoneInfo(name) if name and len(name) < 64 else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)
