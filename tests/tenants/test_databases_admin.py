"""A tenant's admin on a second PostgreSQL server: its people named, its receivers edited.

The users are in the shared schema on the first server; the tenant's schema,
on the second, has an empty `auth_user` of that database's own. This process
knows both databases, as a web process given HERALD_TENANT_DATABASES does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from alerting.infra.tenant_databases import tenant_databases_parse
from tenants.models import Role, Tenant, TenantMembership
from tests.tenants.database_aliases import database_aliases_added
from tests.tenants.test_databases import (  # noqa: F401 - fixtures
    manage,
    rows_on,
    second_postgres,
    two_databases,
)


@pytest.fixture
def second_in_this_process(second_postgres) -> Iterator[None]:  # noqa: F811
    added = tenant_databases_parse(default=connection.settings_dict,
                                   spec=f"second={second_postgres}")
    with database_aliases_added(added):
        yield


def test_the_people_list_of_a_tenant_on_a_second_server_names_their_users(
    two_databases, second_postgres, second_in_this_process, committed_tenants,  # noqa: F811
    tmp_path,
):
    manage(two_databases, "create_tenant", "--slug", "delta", "--name", "Delta",
           "--domain", "delta.localhost", "--database", "second")
    delta = Tenant.objects.get(slug="delta")
    pat = User.objects.create_user(username="pat-oncall", password="a long enough password")
    TenantMembership.objects.create(user=pat, tenant=delta, role=Role("editor"))
    config = tmp_path / "delta.yaml"
    config.write_text("people:\n  - {username: pat-oncall, display_name: Pat}\n")
    manage(two_databases, "deploy_receivers", str(config), "--tenant", "delta")
    [(person_id,)] = rows_on(second_postgres, "SELECT id FROM delta.escalation_person")
    client = Client(HTTP_HOST="delta.localhost")
    client.force_login(pat)

    listing = client.get("/admin/escalation/person/")
    by_username = client.get("/admin/escalation/person/?o=1")  # the column's sort
    profile = client.get(f"/admin/escalation/person/{person_id}/change/")

    assert listing.status_code == by_username.status_code == profile.status_code == 200
    for page in (listing, by_username, profile):
        text = page.content.decode()
        assert "pat-oncall" in text
        assert "(user removed)" not in text


def test_an_editor_adds_changes_and_deletes_a_receiver_of_a_tenant_on_a_second_server(
    two_databases, second_postgres, second_in_this_process, committed_tenants,  # noqa: F811
):
    manage(two_databases, "create_tenant", "--slug", "delta", "--name", "Delta",
           "--domain", "delta.localhost", "--database", "second")
    delta = Tenant.objects.get(slug="delta")
    sam = User.objects.create_user(username="sam-sre", password="a long enough password")
    TenantMembership.objects.create(user=sam, tenant=delta, role=Role("editor"))
    client = Client(HTTP_HOST="delta.localhost")
    client.force_login(sam)
    form = {"name": "delta-slack", "enabled": "on", "max_attempts": 3, "language": "en"}

    added = client.post("/admin/receivers/receiver/add/?kind=slack",
                        {**form, "url": "https://hooks.slack.com/services/T0/B0/deltaS3cret"})
    assert added.status_code == 302, added.content.decode()[:2000]
    [(receiver_id,)] = rows_on(second_postgres, "SELECT id FROM delta.receivers_receiver")
    changed = client.post(f"/admin/receivers/receiver/{receiver_id}/change/",
                          {**form, "name": "delta-slack-2", "url": ""})
    assert changed.status_code == 302, changed.content.decode()[:2000]
    history = client.get(f"/admin/receivers/receiver/{receiver_id}/history/")
    deleted = client.post(f"/admin/receivers/receiver/{receiver_id}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert history.status_code == 200 and "sam-sre" in history.content.decode()
    assert rows_on(second_postgres, "SELECT count(*) FROM delta.receivers_receiver") == [(0,)]
    # The trail is the tenant's, on its server, and names who did what.
    assert rows_on(
        second_postgres,
        "SELECT actor, action FROM delta.audit_auditentry WHERE object_type = 'receivers.receiver'"
        " ORDER BY id",
    ) == [("sam-sre", "create"), ("sam-sre", "update"), ("sam-sre", "delete")]
    verified = manage(two_databases, "verify_audit_log", "--tenant", "delta")
    assert verified.stdout.startswith("delta: intact"), verified.stdout
