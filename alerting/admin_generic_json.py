"""The generic JSON source's test console in the admin: a pasted sample, mapped, nothing stored.

Editors only (those who may change the source); bounded like the template
preview: a rate per user and a cap on consoles at once (receivers.preview_gate),
the sample at the ingest body limit, the mapping's own limits. A plain form
POST: no script, so the admin's CSP holds.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alerting.models import IngestSource, IngestSourceKind
from alerting.sources.generic_json_console import (
    MAX_MAPPING_CHARS,
    ConsoleResult,
    generic_json_console,
)
from receivers.preview_gate import PreviewRefused, preview_rate_take, preview_slot


class GenericJsonConsoleMixin:
    """For IngestSourceAdmin: the console's URL and a link to it on a generic JSON source."""

    @property
    def generic_json_console_urls(self) -> list:
        return [
            path("<int:object_id>/test-mapping/",
                 self.admin_site.admin_view(self.generic_json_console_view),
                 name="alerting_ingestsource_test_mapping"),
        ]

    def get_urls(self):
        return self.generic_json_console_urls + super().get_urls()

    def mapping_console(self, obj: IngestSource) -> str:
        if not obj.pk or obj.kind != IngestSourceKind.GENERIC_JSON:
            return "-"
        url = reverse("admin:alerting_ingestsource_test_mapping", args=[obj.pk])
        return format_html('<a href="{}">Test the mapping with a sample body</a>', url)

    mapping_console.short_description = _("Test console")

    def generic_json_console_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        source = get_object_or_404(IngestSource, pk=object_id)
        if source.kind != IngestSourceKind.GENERIC_JSON:
            raise Http404(_("Only a generic JSON source has a test console."))
        # Running tenant-written mappings is for those who may write them.
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        mapping_text = json.dumps(source.config or {}, indent=2, ensure_ascii=False)
        sample_text = ""
        result = ConsoleResult()
        refused = ""
        status = 200
        if request.method == "POST":
            mapping_text = request.POST.get("mapping", "")
            sample_text = request.POST.get("sample", "")
            try:
                preview_rate_take(user_id=request.user.pk)
                with preview_slot():
                    result = generic_json_console(
                        source_name=source.name, mapping_text=mapping_text,
                        sample_text=sample_text,
                    )
            except PreviewRefused as exc:
                refused, status = exc.reason, 429
        context = {
            **self.admin_site.each_context(request),
            "title": _("Test the mapping of %(source)s") % {"source": source.name},
            "source": source,
            "opts": self.model._meta,
            "mapping_text": mapping_text,
            "sample_text": sample_text,
            "max_mapping_chars": MAX_MAPPING_CHARS,
            "result": result,
            "refused": refused,
        }
        return TemplateResponse(
            request, "admin/alerting/ingestsource/generic_json_console.html", context,
            status=status,
        )
