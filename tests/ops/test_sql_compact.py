"""Our long constant statements stay short enough for psycopg to parse them once."""

from psycopg import _queries

from alerting.infra.sql import sql_compact
from alerting.ingest import _UPSERT_SQL


def test_comments_and_whitespace_go_and_the_statement_stays():
    sql = """
    SELECT a,  -- what we want
           'x y' AS b
    FROM t   -- where it is
    WHERE c = %(c)s
    """
    assert sql_compact(sql) == "SELECT a, 'x y' AS b FROM t WHERE c = %(c)s"


def test_the_ingest_upsert_fits_psycopgs_cache_of_parsed_statements():
    # Longer, psycopg would parse its placeholders again at every webhook.
    assert len(_UPSERT_SQL.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
