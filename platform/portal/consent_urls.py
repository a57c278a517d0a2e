from django.urls import path

from . import consent_views as v

app_name = "consent_portal"
urlpatterns = [
    path("consent/invitations/<str:token>/", v.invitation, name="invitation"),
    path("me/", v.me, name="me"),
    path("me/invitations/<int:invitation_id>/accept/", v.accept_sent, name="accept_sent"),
    path("me/enrol/", v.enrol, name="enrol"),
    path("me/consents/new/", v.grant, name="grant"),
    path("me/consents/<int:consent_id>/revoke/", v.revoke, name="revoke"),
    path("me/videos/", v.videos, name="videos"),
    path("subjects/invite/", v.invite, name="invite"),
    path("moderation/vetting/", v.vetting, name="vetting"),
    path("moderation/elevation/", v.elevation, name="elevation"),
]
