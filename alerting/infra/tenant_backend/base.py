"""django-tenants' backend, keeping the session's search_path when the schemas are the same.

django-tenants forgets the search_path it set whenever a schema is selected,
even the one the session already searches, so every webhook (the public
schema for the request, then its tenant's by the ingest key) began with a
`SET search_path` round trip. Here the backend remembers what the session
was last set to and skips a SET that would change nothing. It forgets it
where the session may have lost it: a close, a rollback, a savepoint
rollback (tests/tenants/test_search_path.py).

Its health check asks the server only when the session has something to say
(alerting.infra.session_check), and the statements that must follow a commit
may go with it (alerting.infra.commit_riders).
"""

from __future__ import annotations

from django_tenants.postgresql_backend import base as tenants_base

from alerting.infra.commit_riders import CommitRidersMixin
from alerting.infra.session_check import IdleSessionCheckMixin


class DatabaseWrapper(CommitRidersMixin, IdleSessionCheckMixin, tenants_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The schemas the session's search_path holds (None: not known).
        self._session_search_path: list[str] | None = None

    def _handle_search_path(self, cursor=None) -> None:
        if (
            self.search_path_set_schemas is None
            and not self._setting_search_path
            and self.schema_name
            and self._session_search_path == self._get_cursor_search_paths()
        ):
            self.search_path_set_schemas = self._session_search_path
            return
        super()._handle_search_path(cursor)
        if not self._setting_search_path:
            self._session_search_path = self.search_path_set_schemas

    def close(self) -> None:
        self._session_search_path = None
        super().close()

    def rollback(self) -> None:
        self._session_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid) -> None:
        self._session_search_path = None
        super().savepoint_rollback(sid)
