"""The operators' admin has its own chain in the shared schema: logins, lockouts and
changes made there are in it, and verify_audit_log checks it like a tenant's chain."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from alerting.audit.heads.models import AuditCheckpoint, OperatorAuditEntry
from alerting.audit.services import audit_record
from alerting.audit.tasks import audit_seal_and_checkpoint_all_tenants
from tests.audit.tamper import as_owner

PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/?next=/admin/"
TABLE = "audit_heads_operatorauditentry"


@pytest.fixture(autouse=True)
def _fast_passwords_and_a_low_limit(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 3


@pytest.fixture
def operator(tenants) -> User:
    connection.set_schema_to_public()
    return User.objects.create_superuser(
        username="operator", password=PASSWORD, email="ops@example.com"
    )


def _operators_client() -> Client:
    return Client(HTTP_HOST="127.0.0.1")


def _chain() -> list[OperatorAuditEntry]:
    return list(OperatorAuditEntry.objects.order_by("id"))


def _verify(capsys) -> tuple[bool, str]:
    try:
        call_command("verify_audit_log", operators=True)
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


def test_failed_logins_and_the_lockout_are_in_the_operators_chain(operator, caplog):
    caplog.set_level(logging.INFO, logger="herald.audit")
    client = _operators_client()
    answers = [
        client.post(LOGIN, {"username": "operator", "password": f"guess-{n}"},
                    REMOTE_ADDR="203.0.113.7").status_code
        for n in range(4)
    ]

    assert answers == [200, 200, 429, 429]
    recorded = [(e.action, e.actor, e.ip, e.source) for e in _chain()]
    assert recorded.count(("login_failed", "operator", "203.0.113.7", "admin")) == 2
    assert ("login_locked_out", "operator", "203.0.113.7", "admin") in recorded
    assert all(entry.seq and entry.key_id for entry in _chain())
    # The log stream keeps its line too.
    lines = [r.getMessage() for r in caplog.records if r.name == "herald.audit"]
    assert "operators' admin: login_locked_out by operator from 203.0.113.7" in lines


def test_a_successful_login_and_an_unlock_are_in_the_operators_chain(operator):
    client = _operators_client()
    for n in range(3):
        client.post(LOGIN, {"username": "ana", "password": f"guess-{n}"},
                    REMOTE_ADDR="198.51.100.9")
    logged_in = client.post(LOGIN, {"username": "operator", "password": PASSWORD},
                            REMOTE_ADDR="192.0.2.10")
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="ana")
    unlocked = client.post("/admin/axes/accessattempt/",
                           {"action": "unlock", "_selected_action": [attempt.pk]},
                           REMOTE_ADDR="192.0.2.10")

    assert logged_in.status_code == unlocked.status_code == 302
    recorded = [(e.action, e.actor, e.ip) for e in _chain()]
    assert ("login", "operator", "192.0.2.10") in recorded
    (unlock,) = [e for e in _chain() if e.action == "login_unlocked"]
    assert (unlock.actor, unlock.object_repr) == ("operator", "ana from 198.51.100.9")


def _user_form_data(response) -> dict:
    """What the browser posts back for the user's change form as shown."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value in (None, False, "", []):
            continue
        if isinstance(value, datetime):  # a split date and time widget
            data[f"{name}_0"], data[f"{name}_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
        else:
            data[name] = "on" if value is True else value
    return data


def test_a_user_change_is_recorded_with_before_and_after_but_no_password_hash(operator):
    ana = User.objects.create_user(username="ana", password=PASSWORD, email="ana@old.example")
    client = _operators_client()
    client.force_login(operator)
    path = f"/admin/auth/user/{ana.pk}/change/"
    data = _user_form_data(client.get(path))
    data["email"] = "ana@new.example"
    data["is_staff"] = "on"

    saved = client.post(path, data, REMOTE_ADDR="192.0.2.20")

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    (entry,) = [e for e in _chain() if e.object_type == "auth.user"]
    assert (entry.actor, entry.action, entry.ip, entry.object_repr) == (
        "operator", "update", "192.0.2.20", "ana")
    assert (entry.before["email"], entry.after["email"]) == ("ana@old.example",
                                                             "ana@new.example")
    assert (entry.before["is_staff"], entry.after["is_staff"]) == (False, True)
    assert entry.after["password"] == "[redacted]"
    stored = json.dumps([entry.before, entry.after])
    assert ana.password not in stored and "md5$" not in stored


def test_the_operators_audit_log_is_listed_filtered_and_exported_read_only(operator):
    client = _operators_client()
    client.post(LOGIN, {"username": "mallory", "password": "x"}, REMOTE_ADDR="203.0.113.66")
    client.force_login(operator)
    changelist = "/admin/audit_heads/operatorauditentry/"

    listed = client.get(changelist, {"action": "login_failed"})
    exported = client.get(changelist + "export.csv", {"action": "login_failed"})
    (entry,) = _chain()

    assert listed.status_code == 200
    assert b"mallory" in listed.content and b"203.0.113.66" in listed.content
    assert b"Export CSV" in listed.content
    rows = b"".join(exported.streaming_content).decode().splitlines()
    assert rows[0].startswith("id,at,actor,source,ip,action")
    assert len(rows) == 2 and "mallory" in rows[1] and entry.hash in rows[1]
    assert client.get(changelist + "add/").status_code == 403
    page = client.get(f"{changelist}{entry.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"{changelist}{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_database_refuses_to_change_or_empty_the_operators_chain(tenants):
    connection.set_schema_to_public()
    audit_record(actor="operator", source="admin", action="login", ip="192.0.2.1")
    for statement in ("UPDATE audit_heads_operatorauditentry SET actor = 'mallory'",
                      "DELETE FROM audit_heads_operatorauditentry",
                      "TRUNCATE audit_heads_operatorauditentry"):
        with (pytest.raises(DatabaseError, match="append-only"), transaction.atomic(),
              connection.cursor() as cursor):
            cursor.execute(statement)
    assert [e.actor for e in _chain()] == ["operator"]


def _record(n: int) -> list[OperatorAuditEntry]:
    connection.set_schema_to_public()
    return [
        audit_record(actor="operator", source="admin", action="update", obj_type="auth.user",
                     obj_id=i, obj_repr=f"user {i}", after={"n": i}, ip="192.0.2.1")
        for i in range(n)
    ]


def test_the_periodic_task_checkpoints_the_operators_chain_and_verify_reports_it(
    tenants, capsys
):
    entries = _record(3)
    audit_seal_and_checkpoint_all_tenants()

    checkpoint = AuditCheckpoint.objects.get(schema_name="public")
    assert (checkpoint.tenant_slug, checkpoint.seq, checkpoint.mac) == (
        "(operators)", 3, entries[-1].hash)
    intact, out = _verify(capsys)
    assert intact
    assert "(operators): intact (3 entries; head #3; 1 checkpoints matched)" in out
    call_command("verify_audit_log")  # by default, with every tenant's chain
    assert "(operators): intact" in capsys.readouterr().out


def test_a_tampered_operators_entry_is_reported(tenants, capsys):
    entries = _record(3)
    audit_seal_and_checkpoint_all_tenants()
    as_owner("UPDATE audit_heads_operatorauditentry SET ip = '10.0.0.1' WHERE id = %s",
             params=[entries[1].id], table=TABLE)

    intact, out = _verify(capsys)

    assert not intact
    assert (f"(operators): BROKEN at entry {entries[1].id}: its content does not match its "
            "MAC") in out
    with pytest.raises(CommandError, match=r"broken for: \(operators\)"):
        call_command("verify_audit_log")


def test_a_cut_tail_of_the_operators_chain_is_reported(tenants, capsys):
    entries = _record(4)
    audit_seal_and_checkpoint_all_tenants()
    as_owner("DELETE FROM audit_heads_operatorauditentry WHERE id >= %s",
             params=[entries[2].id], table=TABLE)

    intact, out = _verify(capsys)

    assert not intact
    assert "(operators): BROKEN: cut tail: the checkpoint of" in out
    assert "saw the chain at entry #4, the table ends at #2" in out


def test_an_operator_setting_a_users_password_is_recorded_without_either_hash(operator):
    ana = User.objects.create_user(username="ana", password=PASSWORD)
    old_hash = ana.password
    client = _operators_client()
    client.force_login(operator)

    saved = client.post(f"/admin/auth/user/{ana.pk}/password/",
                        {"password1": "a new long passphrase", "password2":
                         "a new long passphrase", "usable_password": "true"},
                        REMOTE_ADDR="192.0.2.30")

    assert saved.status_code == 302
    (entry,) = [e for e in _chain() if e.object_type == "auth.user"]
    assert (entry.actor, entry.action, entry.ip) == ("operator", "password_change", "192.0.2.30")
    assert (entry.before["password"], entry.after["password"]) == ("[redacted]",
                                                                   "[redacted, changed]")
    stored = json.dumps([entry.before, entry.after])
    assert old_hash not in stored and User.objects.get(pk=ana.pk).password not in stored
