"""REST endpoints for detection and moderation: moderators (and admins) only, paginated,
every mutation audited by the services it calls; their refusals (ModerationError) become
a 400 or 403 in veritalk.api_errors."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ModeratorsOnly
from registry.models import RegistryEntry

from .models import Case, CaseAction
from .services import ACTIONS, act, detection_for_display, open_output, open_upload


class CaseActionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True)

    class Meta:
        model = CaseAction
        fields = ["action", "note", "actor", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)
    actions = CaseActionSerializer(many=True, read_only=True)
    taken_down = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "source", "entry", "file_name", "sha256", "size", "status", "stage", "progress", "detection",
                  "provenance", "error", "decision", "note", "created_by", "decided_by", "decided_at", "created_at",
                  "analysed_at", "taken_down", "actions"]
        read_only_fields = fields
        extra_kwargs = {"detection": {"help_text": (
            "The detector's result in the request's language: score (0..1, 1 = generated); label (No sign of "
            "generation found, Suspicious or Likely generated: never a claim that the file is real) and label_key; "
            "cues (the cue groups that weighed most: group, name, sentence, pushes, effect); trained_on (generator "
            "families); measured (detection rates at 1% and 5% false positives on real videos for families left "
            "out of training, with 95% intervals); caveat; thresholds; timeline; top_features (for engineers).")}}

    def get_taken_down(self, case) -> bool:
        return bool(case.entry_id and hasattr(case.entry, "takedown"))

    def to_representation(self, case):
        # The detector's result as a moderator reads it: label and cue groups in words in the
        # request's language, with what the model was trained on and its measured rates.
        data = super().to_representation(case)
        data["detection"] = detection_for_display(case.detection)
        return data


class CaseCreateSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="A video to analyse.")
    entry = serializers.IntegerField(required=False, help_text="Or the registry id of one of our outputs.")

    def validate(self, data):
        if bool(data.get("file")) == bool(data.get("entry")):
            raise ValidationError("give either a file or a registry entry id, not both or neither")
        return data


class ActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(ACTIONS))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CaseViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                  viewsets.GenericViewSet):
    """Moderation cases: upload a file (or name an output) to run the detector and the
    provenance check; then clear, flag, take down or escalate."""
    serializer_class = CaseSerializer
    permission_classes = [IsAuthenticated, ModeratorsOnly]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    queryset = Case.objects.none()

    def get_queryset(self):
        qs = Case.objects.select_related("created_by", "decided_by", "entry").prefetch_related("actions__actor")
        decision = self.request.query_params.get("decision")
        if decision:
            qs = qs.filter(decision=decision)
        return qs.order_by("-created_at")

    def get_serializer_class(self):
        if self.action == "create":
            return CaseCreateSerializer
        if self.action == "decide":
            return ActionSerializer
        return CaseSerializer

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def create(self, request, *args, **kwargs):
        s = CaseCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        if s.validated_data.get("file"):
            case = open_upload(request.user, s.validated_data["file"])
        else:
            entry = RegistryEntry.objects.filter(pk=s.validated_data["entry"]).first()
            if entry is None:
                raise ValidationError({"entry": [f"no registry entry {s.validated_data['entry']}"]})
            case = open_output(request.user, entry)
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ActionSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="action")
    def decide(self, request, pk=None):
        case = self.get_object()
        s = ActionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        case = act(case, request.user, s.validated_data["action"], s.validated_data["note"])
        return Response(CaseSerializer(Case.objects.get(pk=case.pk)).data)


class DetectorModelSerializer(serializers.Serializer):
    version = serializers.CharField()
    feature_version = serializers.CharField()
    trained_at = serializers.CharField()
    thresholds = serializers.DictField()
    trained_on = serializers.ListField(child=serializers.DictField())
    measured = serializers.DictField(allow_null=True)
    held_out = serializers.DictField()
    laundered_all = serializers.DictField()


class DetectorModelView(APIView):
    """The shipped detector: version, thresholds and evaluation summary from its manifest."""
    permission_classes = [IsAuthenticated, ModeratorsOnly]
    serializer_class = DetectorModelSerializer

    @extend_schema(responses=DetectorModelSerializer)
    def get(self, request):
        from detection.explain import model_card  # noqa: PLC0415 - beside the heavy import below
        from detection.model import DEFAULT_MODEL, manifest_of  # noqa: PLC0415 - heavy (scikit-learn): not in every web process
        m = manifest_of(DEFAULT_MODEL)
        if m is None:
            return Response({"detail": "no detector model is installed"}, status=status.HTTP_404_NOT_FOUND)
        ev = m.get("evaluation", {})
        card = model_card(m)
        return Response({"version": m.get("version"), "feature_version": m.get("feature_version"),
                         "trained_at": m.get("trained_at"), "thresholds": m.get("thresholds"),
                         "trained_on": card["trained_on"], "measured": card["measured"],
                         "held_out": ev.get("held_out"), "laundered_all": ev.get("laundered_all")})
