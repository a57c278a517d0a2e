"""REST API for the consent lifecycle (DRF): creators invite, subjects accept,
enrol, grant and revoke, moderators vet and verify elevated consents. Every
view goes through consent.services / consent.invitations, the same code as the
portal, so both paths are refused the same way (their errors become a 400, 403 or
409 in veritalk.api_errors)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Role, VettingRequest
from accounts.permissions import CreatorsOnly, ModeratorsOnly, SubjectsOnly, can_moderate, is_creator, is_subject
from accounts.services import set_vetted
from jobs.inputs import read_upload
from jobs.models import Job

from .invitations import accept_invitation, create_invitation, find_by_token
from .models import Consent, Invitation, Subject
from .services import elevate_consent, enrol_selfies, give_consent, revoke_consent, subjects_for


def invitation_link(request, token: str) -> str:
    return request.build_absolute_uri(f"/consent/invitations/{token}/")


# --- serializers -------------------------------------------------------------------------------

class InvitationSerializer(serializers.ModelSerializer):
    creator = serializers.CharField(source="creator.username", read_only=True)
    invitee = serializers.CharField(source="invitee.username", read_only=True, default=None)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "creator", "display_name", "invitee", "message", "state", "created_at", "expires_at",
                  "accepted_at", "subject"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=120)
    invitee = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="Username of an existing subject account; leave empty for a link.")
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AcceptSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, allow_blank=True, default="")
    invitation = serializers.IntegerField(required=False, help_text="Id of an invitation sent to your account.")


class SubjectSerializer(serializers.ModelSerializer):
    """A subject without their face: embeddings never leave the server."""
    account = serializers.CharField(source="account.username", read_only=True, default=None)
    enrolled = serializers.BooleanField(read_only=True)
    consents = serializers.SerializerMethodField()

    class Meta:
        model = Subject
        fields = ["id", "display_name", "account", "enrolled", "enrolled_at", "consents"]
        read_only_fields = fields

    def get_consents(self, subject) -> list[dict]:
        user = self.context["request"].user
        consents = subject.consents.all() if is_subject(user) else subject.consents.filter(creator=user)
        return ConsentSerializer(consents.order_by("-granted_at"), many=True).data


class ConsentSerializer(serializers.ModelSerializer):
    creator = serializers.CharField(source="creator.username", read_only=True)
    subject_name = serializers.CharField(source="subject.display_name", read_only=True)
    active = serializers.SerializerMethodField()
    elevated = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = ["id", "subject", "subject_name", "creator", "purposes", "channels", "max_videos", "statement",
                  "granted_at", "starts_at", "expires_at", "revoked_at", "revoked_reason", "elevated", "active"]
        read_only_fields = fields

    def get_active(self, consent) -> bool:
        return consent.is_active()

    def get_elevated(self, consent) -> bool:
        return consent.elevated_at is not None


class GrantSerializer(serializers.Serializer):
    creator = serializers.CharField(help_text="Username of the creator who invited you.")
    purposes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=True)
    channels = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    max_videos = serializers.IntegerField(required=False, allow_null=True, default=None)
    statement = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    agree = serializers.BooleanField(default=False, help_text="You confirm that you agree to this consent.")


class RevocationSerializer(serializers.Serializer):
    consent = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class VettingEntrySerializer(serializers.Serializer):
    username = serializers.CharField()
    vetted = serializers.BooleanField()
    vetted_at = serializers.DateTimeField(allow_null=True)
    vetting_note = serializers.CharField(allow_blank=True)
    date_joined = serializers.DateTimeField()
    request = serializers.CharField(allow_null=True, help_text="The creator's open request to be vetted, if any.")
    requested_at = serializers.DateTimeField(allow_null=True)


class EnrolSerializer(serializers.Serializer):
    selfies = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=5,
                                    help_text="1 to 5 selfies of the subject alone (JPEG, PNG or WebP).")


class VettingSerializer(serializers.Serializer):
    username = serializers.CharField()
    vetted = serializers.BooleanField(default=True)
    note = serializers.CharField(max_length=2000, allow_blank=True)


class SubjectVideoSerializer(serializers.ModelSerializer):
    creator = serializers.CharField(source="creator.username", read_only=True)
    revoked = serializers.SerializerMethodField()
    output_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "creator", "status", "purpose", "channel", "consent", "created_at", "finished_at",
                  "revoked", "output_url"]
        read_only_fields = fields

    def get_revoked(self, job) -> bool:
        entry = getattr(job, "registry_entry", None)
        return bool(entry and entry.revoked)

    def get_output_url(self, job) -> str | None:
        if job.status != Job.Status.SUCCEEDED:
            return None
        return self.context["request"].build_absolute_uri(f"/jobs/{job.pk}/output.mp4")


# --- views -------------------------------------------------------------------------------------

class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Creators invite people (a one-time link, or an existing subject account);
    subjects see the invitations sent to them and accept them."""
    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()  # typed for the schema; get_queryset() scopes to the user
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        user = self.request.user
        if is_subject(user):
            return Invitation.objects.filter(invitee=user) | Invitation.objects.filter(accepted_by=user)
        return Invitation.objects.filter(creator=user)

    def get_serializer_class(self):
        return {"create": InvitationCreateSerializer, "accept": AcceptSerializer}.get(self.action,
                                                                                       InvitationSerializer)

    def create(self, request, *args, **kwargs):
        if not is_creator(request.user):
            raise PermissionDenied(CreatorsOnly.message)
        s = InvitationCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        invitee = None
        if s.validated_data["invitee"]:
            invitee = get_user_model().objects.filter(username=s.validated_data["invitee"], role=Role.SUBJECT).first()
            if invitee is None:
                raise ValidationError({"invitee": [f"no subject account '{s.validated_data['invitee']}'"]})
        inv, token = create_invitation(creator=request.user, display_name=s.validated_data["display_name"],
                                       invitee=invitee, message=s.validated_data["message"])
        data = InvitationSerializer(inv).data
        data.update(token=token, link=invitation_link(request, token))  # shown once: only its hash is kept
        return Response(data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"], permission_classes=[SubjectsOnly])
    def accept(self, request):
        """Accept by the link's token, or by id for an invitation sent to your account."""
        s = AcceptSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        if s.validated_data["token"]:
            inv = find_by_token(s.validated_data["token"])
        elif s.validated_data.get("invitation"):
            inv = Invitation.objects.filter(pk=s.validated_data["invitation"], invitee=request.user).first()
        else:
            raise ValidationError({"token": ["give the invitation's token or its id"]})
        if inv is None:
            raise NotFound("no such invitation (check the link)")
        subject = accept_invitation(account=request.user, invitation=inv)  # a spent invitation: 409
        return Response({"subject": SubjectSerializer(subject, context={"request": request}).data,
                         "creator": inv.creator.username}, status=status.HTTP_200_OK)


class SubjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Creators see the subjects they may work with; a subject sees their own record,
    enrols their face and sees the videos made of them."""
    serializer_class = SubjectSerializer
    queryset = Subject.objects.none()  # typed for the schema; get_queryset() scopes to the user

    def get_queryset(self):
        user = self.request.user
        if is_subject(user):
            return Subject.objects.filter(account=user)
        return subjects_for(user).order_by("display_name")

    @extend_schema(request={"multipart/form-data": EnrolSerializer}, responses={200: SubjectSerializer})
    @action(detail=False, methods=["post"], permission_classes=[SubjectsOnly],
            parser_classes=[MultiPartParser, FormParser])
    def enrol(self, request):
        """Upload 1-5 selfies as `selfies`; only their face embeddings are kept."""
        files = request.FILES.getlist("selfies")
        if not files or len(files) > 5:
            raise ValidationError({"selfies": ["send 1 to 5 selfies as `selfies`"]})
        try:
            data = [read_upload(f, limit=settings.VERITALK_MAX_PHOTO_BYTES, field="selfies") for f in files]
            subject = enrol_selfies(account=request.user, selfies=data)
        finally:
            for f in files:
                f.close()  # a temporary upload file is deleted here
        return Response(SubjectSerializer(subject, context={"request": request}).data)

    @extend_schema(responses={200: SubjectVideoSerializer(many=True)})
    @action(detail=True, methods=["get"], permission_classes=[SubjectsOnly], serializer_class=SubjectVideoSerializer)
    def videos(self, request, pk=None):
        """Every job that used this subject's face, with its state and registry revocation."""
        subject = self.get_object()
        jobs = subject.jobs.select_related("creator", "registry_entry").order_by("-created_at")
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(SubjectVideoSerializer(page, many=True, context={"request": request}).data)


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    """Consents: a subject grants a scoped consent to a creator who invited them;
    creators see the consents they received; moderators verify elevated consents."""
    serializer_class = ConsentSerializer
    queryset = Consent.objects.none()  # typed for the schema; get_queryset() scopes to the user
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        user = self.request.user
        qs = Consent.objects.select_related("creator", "subject").order_by("-granted_at")
        if is_subject(user):
            return qs.filter(subject__account=user)
        if can_moderate(user):
            return qs
        return qs.filter(creator=user)

    def get_serializer_class(self):
        return {"create": GrantSerializer, "elevate": NoteSerializer}.get(self.action, ConsentSerializer)

    def create(self, request, *args, **kwargs):
        if not is_subject(request.user):
            raise PermissionDenied("Only the subject grants consent; " + SubjectsOnly.message)
        s = GrantSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        creator = get_user_model().objects.filter(username=d["creator"]).first()
        if creator is None:
            raise ValidationError({"creator": [f"no creator '{d['creator']}'"]})
        consent = give_consent(account=request.user, creator=creator, purposes=d["purposes"],
                               channels=d["channels"], starts_at=d["starts_at"], expires_at=d["expires_at"],
                               max_videos=d["max_videos"], statement=d["statement"], agreed=d["agree"])
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], permission_classes=[ModeratorsOnly])
    def elevate(self, request, pk=None):
        s = NoteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        consent = elevate_consent(self.get_object(), by=request.user, note=s.validated_data["note"])
        return Response(ConsentSerializer(consent).data)


class RevocationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """A subject revokes a consent, effective at once (queued jobs cancelled, a
    running job stopped before release, past outputs marked revoked)."""
    serializer_class = ConsentSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        user = self.request.user
        qs = Consent.objects.filter(revoked_at__isnull=False).select_related("creator", "subject")
        if is_subject(user):
            return qs.filter(subject__account=user).order_by("-revoked_at")
        if can_moderate(user):
            return qs.order_by("-revoked_at")
        return qs.filter(creator=user).order_by("-revoked_at")

    def get_serializer_class(self):
        return RevocationSerializer if self.action == "create" else ConsentSerializer

    def create(self, request, *args, **kwargs):
        s = RevocationSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        user = request.user
        consent = Consent.objects.filter(pk=s.validated_data["consent"]).select_related("subject").first()
        owns = consent is not None and consent.subject.account_id == user.pk
        if consent is None or not (owns or can_moderate(user)):
            raise NotFound("no such consent among yours")  # the same answer for others' consents
        consent = revoke_consent(consent, actor=user, reason=s.validated_data["reason"])
        cancelled = list(consent.jobs.filter(status=Job.Status.CANCELLED, finished_at__gte=consent.revoked_at)
                         .values_list("pk", flat=True))
        revoked = list(consent.jobs.filter(registry_entry__revoked=True).values_list("pk", flat=True))
        return Response({**ConsentSerializer(consent).data, "cancelled_jobs": [str(j) for j in cancelled],
                         "revoked_outputs": [str(j) for j in revoked]}, status=status.HTTP_201_CREATED)


class VettingViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Admins and moderators vet creators (or withdraw vetting), always with a note."""
    permission_classes = [ModeratorsOnly]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_serializer_class(self):
        return VettingEntrySerializer if self.action == "list" else VettingSerializer

    def get_queryset(self):
        return get_user_model().objects.filter(role=Role.CREATOR).order_by("vetted", "username")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        pending = {r.user_id: r for r in VettingRequest.objects.filter(decision=VettingRequest.Decision.PENDING,
                                                                       user__in=page)}
        return self.get_paginated_response([
            {"username": u.username, "vetted": u.vetted, "vetted_at": u.vetted_at, "vetting_note": u.vetting_note,
             "date_joined": u.date_joined, "request": pending[u.pk].message if u.pk in pending else None,
             "requested_at": pending[u.pk].created_at if u.pk in pending else None} for u in page])

    def create(self, request, *args, **kwargs):
        s = VettingSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=s.validated_data["username"]).first()
        if user is None:
            raise NotFound(f"no account '{s.validated_data['username']}'")
        set_vetted(user, by=request.user, vetted=s.validated_data["vetted"], note=s.validated_data["note"])
        return Response({"username": user.username, "vetted": user.vetted, "vetted_at": user.vetted_at,
                         "vetted_by": request.user.username, "vetting_note": user.vetting_note,
                         "at": timezone.now()}, status=status.HTTP_201_CREATED)
