"""A chat button's compact token: short, bound to its tenant, group, incident and action."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from escalation.actions import (
    MAX_TOKEN_LENGTH,
    Action,
    ActionRequest,
    ActionTokenError,
    action_compact_token,
    action_compact_token_read,
)
from tenants.link_keys import tenant_link_key_rotate
from tenants.models import Tenant


def token(tenant, action=Action.ACKNOWLEDGE, group=41, incident=2) -> str:
    return action_compact_token(
        tenant=tenant, alert_group_id=group, incident=incident, action=action
    )


def test_a_token_says_which_action_on_which_incident_of_which_group(alpha):
    for action in Action:
        assert action_compact_token_read(tenant=alpha, token=token(alpha, action)) == (
            ActionRequest(alert_group_id=41, incident=2, action=action)
        )


@given(group=st.integers(1, 2**63 - 1), incident=st.integers(1, 2**31 - 1),
       action=st.sampled_from(list(Action)))
# The tenant is only read: nothing to reset between examples.
@hypothesis_settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_token_fits_telegrams_callback_data_with_a_prefix(tenants, group, incident, action):
    made = token(tenants["alpha"], action, group, incident)

    assert len(made) <= MAX_TOKEN_LENGTH and made.isascii()
    assert len(f"herald:{made}".encode()) <= 64
    assert action_compact_token_read(tenant=tenants["alpha"], token=made).alert_group_id == group


def _flip(text: str, position: int) -> str:
    swapped = "b" if text[position] != "b" else "c"
    return text[:position] + swapped + text[position + 1:]


@pytest.mark.parametrize("position", [0, 2, 5, -1, -8], ids=[
    "action", "group", "incident or time", "tag end", "tag middle"])
def test_an_altered_token_is_refused(alpha, position):
    with pytest.raises(ActionTokenError, match="not valid") as refused:
        action_compact_token_read(tenant=alpha, token=_flip(token(alpha), position))
    assert refused.value.status == 400


def test_a_token_changed_to_another_action_is_refused(alpha):
    made = token(alpha, Action.ACKNOWLEDGE)
    with pytest.raises(ActionTokenError, match="not valid"):
        action_compact_token_read(tenant=alpha, token="r" + made[1:])


def test_another_tenants_token_is_refused(alpha, beta):
    with pytest.raises(ActionTokenError, match="not valid"):
        action_compact_token_read(tenant=alpha, token=token(beta))


def test_a_forged_token_made_without_the_key_is_refused(alpha):
    with pytest.raises(ActionTokenError, match="not valid"):
        action_compact_token_read(tenant=alpha, token="a.15.2.t5x9qo.AAAAAAAAAAAAAAAA")


@pytest.mark.parametrize("bad", [
    "", "a" * 49, "a.1.1.1." + "x" * 40, "a.1.1", "z.1.1.1.abc", "a.-1.1.1.abc",
    "a.1.1.1.é", "a.1.1." + "9" * 14 + ".x", ".....",
], ids=["empty", "49 chars", "over-long", "too few parts", "unknown action", "negative",
        "not ascii", "huge number", "dots"])
def test_malformed_input_is_a_clear_refusal(alpha, bad):
    with pytest.raises(ActionTokenError, match="not valid"):
        action_compact_token_read(tenant=alpha, token=bad)


def test_an_old_token_has_expired(alpha, settings):
    made = token(alpha)
    later = timezone.now() + timedelta(seconds=settings.HERALD_ACK_LINK_MAX_AGE_SECONDS + 5)
    with (time_machine.travel(later, tick=False),
          pytest.raises(ActionTokenError, match="expired") as refused):
        action_compact_token_read(tenant=alpha, token=made)
    assert refused.value.status == 410


def test_a_token_signed_before_a_rotation_works_during_the_grace_period_only(alpha, settings):
    made = token(alpha)
    tenant_link_key_rotate(tenant_id=alpha.id)
    rotated = Tenant.objects.get(id=alpha.id)

    assert action_compact_token_read(tenant=rotated, token=made).action == Action.ACKNOWLEDGE
    assert action_compact_token_read(tenant=rotated, token=token(rotated)).incident == 2

    later = timezone.now() + timedelta(seconds=settings.HERALD_LINK_KEY_GRACE_SECONDS + 5)
    settings.HERALD_ACK_LINK_MAX_AGE_SECONDS = settings.HERALD_LINK_KEY_GRACE_SECONDS * 10
    with (time_machine.travel(later, tick=False),
          pytest.raises(ActionTokenError, match="retired") as refused):
        action_compact_token_read(tenant=rotated, token=made)
    assert refused.value.status == 410
