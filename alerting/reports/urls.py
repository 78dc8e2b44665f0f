"""The report's URLs inside the tenant admin (alerting/urls_tenant.py mounts them first)."""

from django.contrib import admin
from django.urls import path

from alerting.reports.views import report_csv, report_page

app_name = "reports"

# admin_view: only members of the tenant (any role, auditors included) get in.
urlpatterns = [
    path("", admin.site.admin_view(report_page), name="page"),
    path("<slug:name>.csv", admin.site.admin_view(report_csv), name="csv"),
]
