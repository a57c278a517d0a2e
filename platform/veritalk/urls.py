from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from accounts.api import MeView, TokenView, VettingRequestView
from consent.api import GrantViewSet, InvitationViewSet, RevocationViewSet, SubjectViewSet, VettingViewSet
from jobs.api import FacePreviewView, JobViewSet
from live.api import LiveSessionViewSet
from moderation.api import CaseViewSet, DetectorModelView
from registry.api import VerifyView

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("subjects", SubjectViewSet, basename="subject")
router.register("grants", GrantViewSet, basename="grant")
router.register("revocations", RevocationViewSet, basename="revocation")
router.register("vetting", VettingViewSet, basename="vetting")
router.register("moderation/cases", CaseViewSet, basename="moderation-case")
router.register("live/sessions", LiveSessionViewSet, basename="live-session")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail: Django's own views, in the portal's layout.
    path("password-reset/", auth_views.PasswordResetView.as_view(
        template_name="portal/password_reset_form.html", email_template_name="portal/password_reset_email.txt",
        subject_template_name="portal/password_reset_subject.txt"), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="portal/password_reset_done.html"), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name="portal/password_reset_confirm.html"), name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="portal/password_reset_complete.html"), name="password_reset_complete"),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]),
         name="api-docs"),
    path("api/c2pa/", include("registry.c2pa_api")),
    path("api/detection/model/", DetectorModelView.as_view(), name="detection-model"),
    path("api/token/", TokenView.as_view(), name="api-token"),
    path("api/me/", MeView.as_view(), name="api-me"),
    path("api/me/vetting-request/", VettingRequestView.as_view(), name="api-vetting-request"),
    path("api/verify/", VerifyView.as_view(), name="api-verify"),
    path("api/faces/", FacePreviewView.as_view(), name="api-faces"),
    path("api/", include(router.urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.account_urls")),
    path("", include("portal.consent_urls")),
    path("", include("portal.moderation_urls")),
    path("", include("live.urls")),
    path("", include("portal.urls")),
]
