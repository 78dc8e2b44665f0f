"""Model fields Herald's models share."""

from __future__ import annotations

from django.db import models


class PlainJSONField(models.JSONField):
    """JSON in PostgreSQL's json type: the text as written, checked, not rebuilt.

    For large documents that are written on every ingest and read whole, never
    queried inside: building jsonb from a hundred alerts costs PostgreSQL about
    a millisecond each time, and json keeps the text as it came (key order,
    spacing), which an audit trail wants.
    """

    def db_type(self, connection):
        return "json"

    def from_db_value(self, value, expression, connection):
        if value is None or not isinstance(value, str):
            return value  # psycopg decodes json itself (Django asks only jsonb as text)
        return super().from_db_value(value, expression, connection)
