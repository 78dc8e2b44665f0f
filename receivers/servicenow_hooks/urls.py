"""ServiceNow's sync-back URL, on Herald's shared host and on every tenant's own."""

from django.urls import path

from receivers.servicenow_hooks.views import servicenow_webhook

urlpatterns = [
    path("servicenow/<slug:tenant_slug>/<int:receiver_id>/webhook/", servicenow_webhook,
         name="servicenow-webhook"),
]
