from django.urls import path

from alerting.api.views import AlertmanagerWebhookView

ingest_urlpatterns = [
    path("api/v1/alertmanager/", AlertmanagerWebhookView.as_view(), name="alertmanager-webhook"),
    path(
        "api/v1/alertmanager/<str:key>/",
        AlertmanagerWebhookView.as_view(),
        name="alertmanager-webhook-keyed",
    ),
]
