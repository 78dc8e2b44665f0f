"""Inlines that show a record's history under it: read only, seen by whoever sees the parent."""

from __future__ import annotations

from django.contrib import admin


class HistoryInline(admin.TabularInline):
    """Rows nobody edits here (attempts, events, alerts); the parent admin decides who sees them."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
