from django.urls import path

from . import account_views as v

app_name = "account"
urlpatterns = [
    path("signup/", v.signup, name="signup"),
    path("account/vetting/", v.vetting_request, name="vetting_request"),
]
