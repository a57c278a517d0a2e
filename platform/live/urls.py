from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("live/", views.new_session, name="new"),
    path("live/moderation/", views.moderation, name="moderation"),
    path("live/<uuid:session_id>/", views.session_page, name="session"),
    path("live/<uuid:session_id>/stop/", views.stop, name="stop"),
    path("live/<uuid:session_id>/take-down/", views.take_down, name="take_down"),
]
