"""The C2PA soft-binding resolution API under /api/c2pa/: find the manifest of a
file whose C2PA data was stripped, from its watermark (byBinding), from the file
itself (byContent: watermark, then perceptual fingerprint), and fetch the
manifest store (manifests/{id}, application/c2pa).

Look-ups are read-only and public (auditors need no account) except byContent,
which decodes an uploaded video and so needs a signed-in user."""
from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.chain import record
from provenance.manifest import soft_binding_alg
from provenance.stillmark import CODEC_NAME as STILL_CODEC
from provenance.verify import IMAGE_SUFFIXES, read_watermark
from provenance.videomark import CODEC_NAME as VIDEO_CODEC

from .models import RegistryEntry
from .services import by_binding, by_content, issued

FINGERPRINT_ALG = "com.veritalk.thumbcorr-1fps"
_MIME_SUFFIX = {"video/mp4": ".mp4", "video/quicktime": ".mov", "image/png": ".png", "image/jpeg": ".jpg",
                "video/webm": ".webm", "application/octet-stream": ".mp4"}


class RawParser(BaseParser):
    """The asset itself as the request body (any media type)."""
    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.VERITALK_MAX_REQUEST_BYTES
        data = stream.read(limit + 1) if stream else b""
        if len(data) > limit:
            raise ParseError(f"the file is larger than the limit of {limit} bytes")
        return {"_raw": data, "_type": (media_type or "").split(";")[0].strip()}


_MATCHES = inline_serializer("C2paMatches", {"matches": serializers.ListField(child=inline_serializer(
    "C2paMatch", {"manifestId": serializers.CharField(), "endpoint": serializers.CharField(),
                  "similarityScore": serializers.IntegerField()}))})
_BINDING = inline_serializer("C2paBinding", {"alg": serializers.CharField(), "value": serializers.CharField()})
_MAX = OpenApiParameter("maxResults", int, description="at most this many matches (1-100, default 10)")


def _actor(request):
    return request.user if request.user.is_authenticated else None


def _match(entry: RegistryEntry, score: int) -> dict:
    return {"manifestId": entry.manifest_id, "endpoint": f"/api/c2pa/manifests/{entry.manifest_id}",
            "similarityScore": score}


class SupportedAlgorithms(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("C2paAlgorithms", {
        "watermarks": serializers.ListField(child=serializers.DictField()),
        "fingerprints": serializers.ListField(child=serializers.DictField())}))
    def get(self, request):
        return Response({"watermarks": [{"alg": soft_binding_alg(VIDEO_CODEC)},
                                        {"alg": soft_binding_alg("vtss-1")},
                                        {"alg": soft_binding_alg(STILL_CODEC)}],
                         "fingerprints": [{"alg": FINGERPRINT_ALG}]})


class ByBinding(APIView):
    """GET ?alg=&value= or POST {"alg", "value"}: outputs carrying that soft binding."""
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(parameters=[OpenApiParameter("alg", str, required=True),
                               OpenApiParameter("value", str, required=True), _MAX],
                   responses={200: _MATCHES, 400: OpenApiResponse(description="alg or value missing")})
    def get(self, request):
        return self._resolve(request.query_params.get("alg"), request.query_params.get("value"),
                             request.query_params.get("maxResults"))

    @extend_schema(request=_BINDING, parameters=[_MAX],
                   responses={200: _MATCHES, 400: OpenApiResponse(description="alg or value missing")})
    def post(self, request):
        # A public look-up by a value anyone can read off a file: it writes nothing, so
        # anonymous callers cannot grow the audit log.
        data = request.data if isinstance(request.data, dict) else {}
        return self._resolve(data.get("alg"), data.get("value"), request.query_params.get("maxResults"))

    def _resolve(self, alg, value, max_results):
        if not (isinstance(alg, str) and isinstance(value, str) and alg and value):
            return Response({"detail": "give both `alg` and `value` (the soft binding's base64 value) as strings"},
                            status=status.HTTP_400_BAD_REQUEST)
        entries = [e for e in by_binding(alg, value) if e.manifest_id]
        limit = _limit(max_results)
        return Response({"matches": [_match(e, 100) for e in entries[:limit]]})


class ByContent(APIView):
    """POST the asset (multipart field `file`, or the raw bytes as the body): outputs
    whose watermark it carries, then outputs whose fingerprint it matches."""
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, RawParser]

    @extend_schema(request={"multipart/form-data": inline_serializer("C2paContent", {"file": serializers.FileField()}),
                            "application/octet-stream": OpenApiTypes.BINARY},
                   parameters=[_MAX], responses={200: _MATCHES, 400: OpenApiResponse(description="no file")})
    def post(self, request):
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        raw = request.data.get("_raw") if hasattr(request.data, "get") else None
        if upload is None and not raw:
            return Response({"detail": "send the file as multipart field `file` or as the request body"},
                            status=status.HTTP_400_BAD_REQUEST)
        suffix = (Path(upload.name).suffix.lower() if upload is not None
                  else _MIME_SUFFIX.get(request.data.get("_type"), ".mp4"))
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            if upload is not None:
                for chunk in upload.chunks():
                    tmp.write(chunk)
            else:
                tmp.write(raw)
            tmp.flush()
            matches, seen = [], set()
            wm = read_watermark(tmp.name)
            if wm.found:
                for e in issued().filter(pk=wm.registry_id).exclude(manifest_id=""):
                    matches.append(_match(e, 100))
                    seen.add(e.pk)
            if suffix not in IMAGE_SUFFIXES:
                try:
                    near = by_content(tmp.name)
                except Exception:  # noqa: BLE001 - not a readable video: no content match
                    near = []
                for e, d in near:
                    if e.pk not in seen and e.manifest_id:
                        matches.append(_match(e, int(round(100 * max(0.0, 1 - d)))))
        limit = _limit(request.query_params.get("maxResults"))
        record("c2pa.lookup", actor=_actor(request), data={"by": "content", "watermark": wm.found,
                                                          "matches": len(matches[:limit])})
        return Response({"matches": matches[:limit]})


class Manifest(APIView):
    """The manifest store of one output, as signed (application/c2pa)."""
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/c2pa"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="no such manifest")})
    def get(self, request, manifest_id: str):
        entry = issued().filter(manifest_id=manifest_id).exclude(manifest_store=None).first()
        if entry is None:
            return Response({"detail": f"no manifest {manifest_id}"}, status=status.HTTP_404_NOT_FOUND)
        response = HttpResponse(bytes(entry.manifest_store), content_type="application/c2pa")
        response["Content-Disposition"] = f'attachment; filename="{manifest_id.replace(":", "_")}.c2pa"'
        return response


def _limit(value) -> int:
    try:
        return max(1, min(100, int(value)))
    except (TypeError, ValueError):
        return 10


urlpatterns = [
    path("matches/byBinding", ByBinding.as_view(), name="c2pa-by-binding"),
    path("matches/byContent", ByContent.as_view(), name="c2pa-by-content"),
    path("manifests/<str:manifest_id>", Manifest.as_view(), name="c2pa-manifest"),
    path("services/supportedAlgorithms", SupportedAlgorithms.as_view(), name="c2pa-algorithms"),
]
