from django.urls import path

from . import moderation_views as v

app_name = "moderation_portal"
urlpatterns = [
    path("moderation/", v.queue, name="queue"),
    path("moderation/cases/<uuid:case_id>/", v.case_detail, name="case"),
    path("moderation/cases/<uuid:case_id>/status/", v.case_status, name="case_status"),
    path("moderation/cases/<uuid:case_id>/action/", v.case_action, name="case_action"),
]
