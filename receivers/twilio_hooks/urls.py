"""Twilio's callbacks, on Herald's shared host (HERALD_BASE_URL) and on the tenants' own."""

from django.urls import path

from receivers.twilio_hooks.views import twilio_gather, twilio_sms, twilio_status

urlpatterns = [
    path("twilio/<slug:tenant_slug>/status/<int:notification_id>/", twilio_status,
         name="twilio-status"),
    path("twilio/<slug:tenant_slug>/gather/<int:notification_id>/", twilio_gather,
         name="twilio-gather"),
    path("twilio/<slug:tenant_slug>/<int:receiver_id>/sms/", twilio_sms, name="twilio-sms"),
]
