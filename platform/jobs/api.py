"""REST API for jobs (DRF). Creating a job runs the same validation and gate as
the portal and the CLI."""
from __future__ import annotations

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from consent.models import Subject
from consent.services import subjects_for
from generation.errors import InputError

from .models import Job
from .services import submit_job


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="progress_percent", read_only=True)
    output_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "status", "subject", "consent", "purpose", "channel", "controls", "decision", "error", "progress",
                  "progress_done", "progress_total", "output_sha256", "output_url", "verification",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_output_url(self, job) -> str | None:
        if job.status != Job.Status.SUCCEEDED:
            return None
        request = self.context.get("request")
        url = f"/jobs/{job.pk}/output.mp4"
        return request.build_absolute_uri(url) if request else url


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
    emotion = serializers.CharField(required=False)
    expression_scale = serializers.FloatField(required=False)
    head_motion = serializers.FloatField(required=False)
    gaze = serializers.CharField(required=False, help_text="X,Y each from -1 to 1")
    blink_rate = serializers.FloatField(required=False)
    seed = serializers.IntegerField(required=False)
    size = serializers.IntegerField(required=False)
    backend = serializers.CharField(required=False, help_text="warp (default) or diffusion (GPU queue)")
    motion = serializers.CharField(required=False, help_text="procedural or learned (the warp engine's motion)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["subject"].queryset = subjects_for(request.user)


class JobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A creator's generation jobs."""
    serializer_class = JobSerializer
    queryset = Job.objects.none()  # typed for the schema; get_queryset() scopes to the user
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return Job.objects.filter(creator=self.request.user).order_by("-created_at")

    def get_serializer_class(self):
        return JobCreateSerializer if self.action == "create" else JobSerializer

    def create(self, request, *args, **kwargs):
        s = JobCreateSerializer(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        controls = {k: d.pop(k) for k in list(d) if k not in ("subject", "photo", "audio", "purpose", "channel")}
        try:
            job = submit_job(creator=request.user, subject=d["subject"], photo=d["photo"], audio=d["audio"],
                             controls=controls, purpose=d["purpose"], channel=d["channel"])
        except InputError as exc:
            raise ValidationError({exc.field or "non_field_errors": [exc.message], "code": exc.code}) from exc
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)
