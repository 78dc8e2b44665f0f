from django.urls import path
from rest_framework.routers import SimpleRouter

from alerting.api.alert_views import AlertGroupViewSet, AlertViewSet
from alerting.api.generic_json_views import GenericJsonIngestKeyedView, GenericJsonIngestView
from alerting.api.grafana_ingest import GrafanaWebhookKeyedView, GrafanaWebhookView
from alerting.api.ingest import AlertmanagerWebhookKeyedView, AlertmanagerWebhookView
from alerting.api.pagerduty_ingest import PagerDutyEnqueueView
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
    path(
        "api/v1/sources/<str:name>/",
        GenericJsonIngestView.as_view(),
        name="generic-json-ingest",
    ),
    path(
        "api/v1/sources/<str:name>/<str:key>/",
        GenericJsonIngestKeyedView.as_view(),
        name="generic-json-ingest-keyed",
    ),
    path("api/v1/grafana/", GrafanaWebhookView.as_view(), name="grafana-webhook"),
    path(
        "api/v1/grafana/<str:key>/", GrafanaWebhookKeyedView.as_view(),
        name="grafana-webhook-keyed",
    ),
    # PagerDuty's own path has no trailing slash; its clients send it as configured.
    path(
        "api/v1/events/v2/enqueue", PagerDutyEnqueueView.as_view(),
        name="pagerduty-events-enqueue",
    ),
    *router.urls,
]
