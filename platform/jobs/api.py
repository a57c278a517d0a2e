"""REST API for jobs (DRF). Creating a job runs the same validation and gate as
the portal: cheap checks in the request, then 202 and a `checking` job whose face the
intake queue checks (jobs.intake); the result is downloaded through a permission-checked
view; the face preview lets the portal show the detected face before a job is submitted."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CreatorsOnly, is_creator
from audit.chain import atomic as audit_atomic
from audit.chain import record
from consent.models import Subject
from consent.services import subjects_for
from generation.controls import Control, declared
from generation.errors import InvalidControl
from generation.face import analyse_face, detect_faces, face_embedding, face_problem
from generation.images import load_image
from moderation.services import is_taken_down

from .gate import decide_face
from .inputs import read_upload
from .intake import accept_job
from .models import Job
from .services import CancelError, cancel_job


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="progress_percent", read_only=True)
    output_url = serializers.SerializerMethodField()
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                           help_text="When the subject revoked the consent; null if they did not.")

    class Meta:
        model = Job
        fields = ["id", "status", "subject", "consent", "purpose", "channel", "controls", "decision", "error",
                  "progress", "progress_done", "progress_total", "output_sha256", "output_url", "verification",
                  "revoked_at", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_output_url(self, job) -> str | None:
        if job.status != Job.Status.SUCCEEDED:
            return None
        request = self.context.get("request")
        url = f"/api/jobs/{job.pk}/output/"
        return request.build_absolute_uri(url) if request else url


class ControlField(serializers.Field):
    """A declared generation control: checked (and named in errors) by the library,
    described in the schema by the declaration (ControlFieldSchema)."""

    def __init__(self, control: Control, **kwargs):
        self.control = control
        super().__init__(required=False, help_text=control.help, **kwargs)

    def to_internal_value(self, data):
        if data in ("", None):
            return self.control.default
        try:
            return self.control.clean(data)
        except InvalidControl as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc

    def to_representation(self, value):
        return self.control.jsonable(value)


class ControlFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ControlField

    def map_serializer_field(self, auto_schema, direction):
        return self.target.control.schema()


class JobCreateSerializer(serializers.Serializer):
    subject = serializers.PrimaryKeyRelatedField(
        queryset=Subject.objects.none(),
        error_messages={"does_not_exist": "Subject {pk_value} is not one of your subjects.",
                        "incorrect_type": "A subject is given by its id (a number)."})
    photo = serializers.FileField()
    audio = serializers.FileField()
    purpose = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    channel = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                    help_text="Where the video will be shown (checked against the consent).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["subject"].queryset = subjects_for(request.user)

    def get_fields(self):
        return {**super().get_fields(), **{c.name: ControlField(c) for c in declared()}}


class Mp4Renderer(renderers.BaseRenderer):
    """Lets a client ask for the video with `Accept: video/mp4`; the body is the file itself."""
    media_type = "video/mp4"
    format = "mp4"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data, default=str).encode()


class JobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A creator's generation jobs: each creator sees only their own. Only creators
    submit jobs; other roles read (their own, i.e. none) and verify elsewhere."""
    serializer_class = JobSerializer
    queryset = Job.objects.none()  # typed for the schema; get_queryset() scopes to the user
    parser_classes = [MultiPartParser, FormParser]
    heavy_requests = ("create",)  # reads uploads: bounded per process (veritalk.middleware)

    def get_queryset(self):
        return (Job.objects.filter(creator=self.request.user).select_related("registry_entry", "consent")
                .order_by("-created_at"))

    def get_serializer_class(self):
        return JobCreateSerializer if self.action == "create" else JobSerializer

    @extend_schema(responses={(200, "video/mp4"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="no such job of yours, or no output yet"),
                              410: OpenApiResponse(description="the subject revoked their consent"),
                              451: OpenApiResponse(description="taken down by moderation")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, Mp4Renderer])
    def output(self, request, pk=None):
        """Download the finished MP4 (signed, watermarked); `?download=1` asks to save it."""
        job = self.get_object()
        if job.status != Job.Status.SUCCEEDED or not job.output:
            raise NotFound(f"job {job.pk} has no output (it is {job.status})")
        path = Path(job.output.path)
        if not path.is_file():
            raise NotFound(f"the output of job {job.pk} is missing from storage")
        entry = getattr(job, "registry_entry", None)
        if is_taken_down(entry):
            return Response({"detail": "This video was taken down by moderation and is no longer available.",
                             "code": "taken_down"}, status=451)
        if entry is not None and entry.revoked:
            return Response({"detail": "The person in this video revoked their consent; it is no longer available.",
                             "code": "consent_revoked"}, status=status.HTTP_410_GONE)
        return FileResponse(open(path, "rb"), content_type="video/mp4",
                            as_attachment=request.query_params.get("download") == "1",
                            filename=f"veritalk-{job.pk}.mp4")

    @extend_schema(request=None, responses={
        200: OpenApiResponse(JobSerializer, description="cancelled: a running job's worker stops at its next "
                                                        "heartbeat and releases nothing"),
        404: OpenApiResponse(description="no such job of yours"),
        409: OpenApiResponse(description="the job has already ended")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel one of your jobs that is checking, queued or running; its uploads are deleted."""
        if not is_creator(request.user):
            raise PermissionDenied(CreatorsOnly.message)
        job = self.get_object()
        try:
            job = cancel_job(job.pk, by=request.user)
        except CancelError as exc:
            return Response({**exc.as_dict(), "detail": exc.message},
                            status=status.HTTP_409_CONFLICT if exc.code == "not_cancellable"
                            else status.HTTP_403_FORBIDDEN)
        return Response(JobSerializer(job, context={"request": request}).data)

    @extend_schema(responses={
        202: OpenApiResponse(JobSerializer, description="accepted: the job is `checking` (the intake checks the "
                                                        "face, then the job becomes `queued` or `denied`)"),
        201: OpenApiResponse(JobSerializer, description="refused at once by a rule that needs no face: the job "
                                                        "is `denied` and its decision says why"),
        400: OpenApiResponse(description="a bad upload or field, named in the body"),
        503: OpenApiResponse(description="too many uploads in progress; retry after Retry-After seconds")})
    def create(self, request, *args, **kwargs):
        """Submit a photo and a voice track. Answered after the cheap checks (sizes, types, the
        voice track, the rules that need no face): poll the job until it is final."""
        if not is_creator(request.user):
            raise PermissionDenied(CreatorsOnly.message)
        s = JobCreateSerializer(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        controls = {c.name: d[c.name] for c in declared() if c.name in d}
        job = accept_job(creator=request.user, subject=d["subject"], photo=d["photo"], audio=d["audio"],
                         controls=controls, purpose=d["purpose"], channel=d["channel"])  # InputError: a 400
        code = status.HTTP_201_CREATED if job.is_final else status.HTTP_202_ACCEPTED
        return Response(JobSerializer(job, context={"request": request}).data, status=code,
                        headers={"Location": f"/api/jobs/{job.pk}/"})


class FacePreviewSerializer(serializers.Serializer):
    photo = serializers.FileField(help_text="The portrait you are about to use (JPEG, PNG or WebP).")
    subject = serializers.IntegerField(required=False, help_text="One of your subjects: the face is compared with "
                                                                 "their enrolled face, as the gate will.")
    purpose = serializers.CharField(required=False, allow_blank=True, default="")
    channel = serializers.CharField(required=False, allow_blank=True, default="")


def identity_preview(creator, subject, rgb) -> dict:
    """The photo's single face against `subject`, by the gate's own face rules (jobs.gate.decide_face)."""
    name = subject.display_name
    if not subject.enrolled:
        message = gettext("%(name)s has not enrolled a face yet, so no photo can be matched.") % {"name": name}
        return {"subject": subject.pk, "matches": None, "rules": ["identity-match"], "message": message}
    embedding = [round(float(v), 6) for v in face_embedding(rgb, analyse_face(rgb))]
    decision = decide_face(creator=creator, subject=subject, face_embedding=embedding).decision
    if decision.allowed:
        message = gettext("Matches %(name)s.") % {"name": name}
    elif "identity-match" in decision.rules:
        message = gettext("Does not match %(name)s's enrolled face.") % {"name": name}
    else:
        message = gettext("This face is on the protected list: a video of this person needs an elevated consent.")
    return {"subject": subject.pk, "matches": decision.allowed, "rules": list(decision.rules) if not decision.allowed
            else [], "message": message}


class FacePreviewView(APIView):
    """Face detection on a photo before a job is submitted: the portal draws the box
    over its preview and, given a subject, says whether the face matches them (the gate's
    identity and protected-person rules). The photo is read in memory and not kept."""
    parser_classes = [MultiPartParser]
    heavy_requests = ("post",)  # dlib in the request: bounded per process (veritalk.middleware)

    @extend_schema(request=FacePreviewSerializer, responses={200: inline_serializer("FacePreview", {
        "width": serializers.IntegerField(), "height": serializers.IntegerField(),
        "faces": serializers.ListField(child=serializers.DictField()),
        "ok": serializers.BooleanField(), "problem": serializers.CharField(allow_null=True),
        "identity": serializers.DictField(allow_null=True)})})
    def post(self, request):
        if not is_creator(request.user):
            raise PermissionDenied(CreatorsOnly.message)
        s = FacePreviewSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        subject = None
        if s.validated_data.get("subject") is not None:
            subject = subjects_for(request.user).filter(pk=s.validated_data["subject"]).first()
            if subject is None:
                raise serializers.ValidationError(
                    {"subject": [f"Subject {s.validated_data['subject']} is not one of your subjects."]})
        data = read_upload(s.validated_data["photo"], limit=settings.VERITALK_MAX_PHOTO_BYTES, field="photo")
        rgb = load_image(data, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)  # InputError -> 400
        boxes = detect_faces(rgb)
        problem = face_problem(rgb, boxes)
        # Only for a subject whose consent to this creator is in force (the form offers no other): the
        # comparison is not an identity oracle on anyone else's enrolment. Each one is audited.
        consent = subject.active_consent(request.user) if subject is not None else None
        consenting = consent is not None and consent.is_active()
        identity = identity_preview(request.user, subject, rgb) if consenting and problem is None else None
        with audit_atomic(serialised=False):  # one new event, no row lock: waits for nobody
            record("face.previewed", actor=request.user,
                   data={"faces": len(boxes), "bytes": len(data),
                         **({"subject": subject.pk, "matches": identity["matches"]} if identity else {})})
        return Response({"width": int(rgb.shape[1]), "height": int(rgb.shape[0]), "ok": problem is None,
                         "faces": [{"box": b.as_list(), "score": round(b.score, 3)} for b in boxes],
                         "problem": problem.message if problem else None, "identity": identity})
