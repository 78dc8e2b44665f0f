"""Herald's own Prometheus metrics; the names are part of the interface."""

from prometheus_client import Counter

escalation_events = Counter(
    "alertmanager_escalation_events",
    "Escalation levels run, by tenant, policy and level.",
    ["tenant", "policy", "level"],
)
