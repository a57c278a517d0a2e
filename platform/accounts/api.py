"""API clients' tokens and who-am-I. A signed-in user (portal session, or
username and password) mints a token; minting replaces the previous one."""
from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.chain import atomic as audit_atomic
from audit.chain import record

from .models import VettingRequest
from .permissions import CreatorsOnly, is_creator
from .services import request_vetting


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, help_text="Not needed when signed in to the portal.")
    password = serializers.CharField(required=False, style={"input_type": "password"})


TokenResponse = inline_serializer("ApiToken", {"token": serializers.CharField(),
                                               "username": serializers.CharField(),
                                               "role": serializers.CharField()})


def mint_token(user, *, via: str) -> Token:
    """A new token for `user` (the old one stops working), recorded in the audit log."""
    with audit_atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        record("token.minted", actor=user, target=user, data={"via": via})
    return token


class TokenView(APIView):
    """POST: mint a token (send it as `Authorization: Token <key>`). DELETE: revoke yours."""
    permission_classes = [AllowAny]
    authentication_classes = [TokenAuthentication, SessionAuthentication]  # refusals are 401 with WWW-Authenticate
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponse})
    def post(self, request):
        s = TokenRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        if user is None:
            d = s.validated_data
            if not d.get("username") or not d.get("password"):
                raise AuthenticationFailed("sign in, or give `username` and `password`")
            user = authenticate(request._request, username=d["username"], password=d["password"])
            if user is None or not user.is_active:
                raise AuthenticationFailed("wrong username or password")
        token = mint_token(user, via="api")
        return Response({"token": token.key, "username": user.username, "role": user.role},
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not request.user.is_authenticated:
            raise AuthenticationFailed("sign in first")
        with audit_atomic():
            deleted, _ = Token.objects.filter(user=request.user).delete()
            record("token.revoked", actor=request.user, target=request.user, data={"had_token": bool(deleted)})
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in account and its role."""

    @extend_schema(responses={200: inline_serializer("Me", {
        "username": serializers.CharField(), "role": serializers.CharField(), "vetted": serializers.BooleanField()})})
    def get(self, request):
        u = request.user
        return Response({"username": u.username, "role": u.role, "vetted": u.vetted})


class VettingApplicationSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000, help_text="Who you are, what you plan to make and for whom.")


def _request_fields() -> dict:
    return {"id": serializers.IntegerField(), "message": serializers.CharField(),
            "created_at": serializers.DateTimeField(),
            "decision": serializers.ChoiceField(choices=VettingRequest.Decision.choices),
            "decided_at": serializers.DateTimeField(allow_null=True), "note": serializers.CharField()}


def _vetting_request(req) -> dict:
    return {"id": req.pk, "message": req.message, "created_at": req.created_at, "decision": req.decision,
            "decided_at": req.decided_at, "note": req.note}


class VettingRequestView(APIView):
    """A creator asks to be vetted (POST, one open request at a time) and reads their
    requests with the decisions (GET). An admin or moderator decides through /api/vetting/."""
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses={200: inline_serializer("VettingState", {
        "vetted": serializers.BooleanField(),
        "requests": inline_serializer("VettingApplicationItem", _request_fields(), many=True)})})
    def get(self, request):
        return Response({"vetted": request.user.vetted, "requests": [
            _vetting_request(r) for r in request.user.vetting_requests.order_by("-created_at")]})

    @extend_schema(request=VettingApplicationSerializer,
                   responses={201: inline_serializer("VettingApplication", _request_fields())})
    def post(self, request):
        if not is_creator(request.user):
            raise PermissionDenied(CreatorsOnly.message)
        s = VettingApplicationSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        req = request_vetting(request.user, message=s.validated_data["message"])  # VettingError: 400 naming why
        return Response(_vetting_request(req), status=status.HTTP_201_CREATED)
