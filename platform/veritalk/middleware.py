"""Request-level limits that Django does not apply to file uploads."""
from django.conf import settings
from django.http import JsonResponse


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
