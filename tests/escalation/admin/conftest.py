"""The people of tests/escalation/people/conftest.py, for the admin pages' tests."""

from tests.escalation.people.conftest import (  # noqa: F401 (fixtures)
    _fast_passwords,
    client_of,
    email_carrier,
    mailbox,
    profiles,
)
