from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("jobs/new/", views.new_job, name="new_job"),
    path("jobs/new/kept/<str:token>/photo", views.kept_photo, name="kept_photo"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/cancel/", views.cancel, name="job_cancel"),
    path("jobs/<uuid:job_id>/output.mp4", views.job_output, name="job_output"),
    path("verify/", views.verify, name="verify"),
]
