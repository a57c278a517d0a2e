from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [path("live/<uuid:session_id>/ws/", LiveConsumer.as_asgi())]
