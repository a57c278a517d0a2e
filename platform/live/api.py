"""REST API for live sessions: create one (the gate decides), read it, stop it, and
for moderators take it down. The stream itself is the WebSocket at `ws_url`
(live.consumers; protocol in live.protocol and the README)."""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from consent.models import Subject
from consent.services import subjects_for

from . import roles, services
from .models import LiveSession


class LiveRefused(APIException):
    def __init__(self, exc: services.LiveError):
        self.status_code = exc.status
        super().__init__({"detail": exc.message, "code": exc.code, **({"field": exc.field} if exc.field else {})})


def raise_api(exc: services.LiveError):
    if exc.status == 400:
        raise ValidationError({exc.field or "non_field_errors": [exc.message], "code": exc.code})
    raise LiveRefused(exc)


class LiveSessionSerializer(serializers.ModelSerializer):
    ws_url = serializers.SerializerMethodField()
    decision = serializers.JSONField(source="job.decision", read_only=True)
    recording_url = serializers.SerializerMethodField()

    class Meta:
        model = LiveSession
        fields = ["id", "status", "subject", "job", "controls", "decision", "end_reason", "end_message", "frames",
                  "dropped_frames", "ws_url", "recording_url", "created_at", "started_at", "ended_at"]
        read_only_fields = fields

    def get_ws_url(self, session) -> str | None:
        if session.status != LiveSession.Status.READY:
            return None
        request = self.context.get("request")
        path = f"/live/{session.pk}/ws/"
        if request is None:
            return path
        scheme = "wss" if request.is_secure() else "ws"
        return f"{scheme}://{request.get_host()}{path}"

    def get_recording_url(self, session) -> str | None:
        return f"/api/jobs/{session.job_id}/output/" if session.job.status == "succeeded" else None


class LiveCreateSerializer(serializers.Serializer):
    subject = serializers.PrimaryKeyRelatedField(
        queryset=Subject.objects.none(),
        error_messages={"does_not_exist": "Subject {pk_value} is not one of your subjects.",
                        "incorrect_type": "A subject is given by its id (a number)."})
    photo = serializers.FileField()
    channel = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    emotion = serializers.CharField(required=False)
    expression_scale = serializers.FloatField(required=False)
    head_motion = serializers.FloatField(required=False)
    gaze = serializers.CharField(required=False, help_text="X,Y each from -1 to 1")
    blink_rate = serializers.FloatField(required=False)
    seed = serializers.IntegerField(required=False)
    size = serializers.IntegerField(required=False, help_text="256, 384 or 512 (default)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["subject"].queryset = subjects_for(request.user)


class TakeDownSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="Why the session is taken down (kept in the audit log).")


class LiveSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         viewsets.GenericViewSet):
    serializer_class = LiveSessionSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):   # the schema generator has no user
            return LiveSession.objects.none()
        user = self.request.user
        qs = LiveSession.objects.select_related("job")
        return qs if roles.can_moderate(user) else qs.filter(creator=user)

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound("no such live session among yours") from None  # the same answer for others' sessions

    @extend_schema(request=LiveCreateSerializer, responses={201: LiveSessionSerializer})
    def create(self, request, *args, **kwargs):
        if not roles.can_start(request.user):
            raise PermissionDenied("only creator accounts start live sessions")
        form = LiveCreateSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        subject, photo, channel = data.pop("subject"), data.pop("photo"), data.pop("channel", "")
        try:
            session = services.start_session(creator=request.user, subject=subject, photo=photo, controls=data,
                                             channel=channel)
        except services.LiveError as exc:
            raise_api(exc)
        return Response(LiveSessionSerializer(session, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: LiveSessionSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        if not (roles.can_start(request.user) or roles.can_moderate(request.user)):
            raise PermissionDenied("only the session's creator stops it; moderators take it down")
        session = self.get_object()
        if session.creator_id != request.user.pk:
            raise PermissionDenied("only the session's creator stops it; moderators take it down")
        try:
            session = services.request_stop(session, by=request.user)
        except services.LiveError as exc:
            raise_api(exc)
        return Response(LiveSessionSerializer(session, context={"request": request}).data)

    @extend_schema(request=TakeDownSerializer, responses={200: LiveSessionSerializer})
    @action(detail=True, methods=["post"], url_path="take_down")
    def take_down(self, request, pk=None):
        if not roles.can_moderate(request.user):
            raise PermissionDenied("only a moderator or an admin can take a live session down")
        session = self.get_object()
        form = TakeDownSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            session = services.take_down(session, by=request.user, note=form.validated_data["note"])
        except services.LiveError as exc:
            raise_api(exc)
        return Response(LiveSessionSerializer(session, context={"request": request}).data)
