from django.urls import path
from rest_framework.routers import SimpleRouter

from alerting.api.alert_views import AlertGroupViewSet, AlertViewSet
from alerting.api.ingest import AlertmanagerWebhookKeyedView, AlertmanagerWebhookView
from alerting.api.schedule_views import ScheduleViewSet, TeamViewSet
from alerting.api.silence_views import SilenceViewSet

router = SimpleRouter()
router.register("api/v1/alerts", AlertViewSet, basename="alert")
router.register("api/v1/alert-groups", AlertGroupViewSet, basename="alert-group")
router.register("api/v1/silences", SilenceViewSet, basename="silence")
router.register("api/v1/schedules", ScheduleViewSet, basename="schedule")
router.register("api/v1/teams", TeamViewSet, basename="team")

api_urlpatterns = [
    path("api/v1/alertmanager/", AlertmanagerWebhookView.as_view(), name="alertmanager-webhook"),
    path(
        "api/v1/alertmanager/<str:key>/",
        AlertmanagerWebhookKeyedView.as_view(),
        name="alertmanager-webhook-keyed",
    ),
    *router.urls,
]
