"""The auditor's verification endpoint: upload any file, get the verify JSON (verdict,
C2PA, watermark, registry, revocation) plus the manifest report. Read-only for the
platform's records, but each verification is kept in the audit log."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.chain import atomic as audit_atomic
from audit.chain import record

from .uploads import verify_upload


class VerifyRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A video or image to check (MP4, MOV, JPEG, PNG or WebP).")


class VerifyView(APIView):
    """Any signed-in user (auditors first) may verify a file; nothing is changed but the log."""
    parser_classes = [MultiPartParser]

    @extend_schema(request=VerifyRequestSerializer, responses={
        200: inline_serializer("Verification", {
            "verdict": serializers.CharField(), "summary": serializers.CharField(),
            "sha256": serializers.CharField(), "kind": serializers.CharField(),
            "c2pa": serializers.DictField(), "watermark": serializers.DictField(),
            "registry": serializers.DictField(), "manifest": serializers.DictField(allow_null=True)}),
        400: OpenApiResponse(description="not a readable video or image")})
    def post(self, request):
        s = VerifyRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        upload = s.validated_data["file"]
        result = verify_upload(upload)  # InputError becomes a 400 naming the problem
        with audit_atomic():
            record("verification.run", actor=request.user,
                   data={"file": (upload.name or "")[:200], "sha256": result["sha256"], "verdict": result["verdict"],
                         "via": "api"})
        return Response(result)
