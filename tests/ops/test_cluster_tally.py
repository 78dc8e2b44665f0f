"""How the cluster proof counts (pure): lost, duplicates against their bound, recovery."""

from __future__ import annotations

from bench.cluster.tally import Fault, counts, throughput


def posted(*pairs):
    return [{"run": "r", "seq": str(seq), "t": t} for seq, t in pairs]


def got(*triples):
    return [{"run": "r", "seq": str(seq), "status": "firing", "key": key, "t": t}
            for seq, key, t in triples]


def test_an_alert_the_receiver_never_got_is_lost_and_a_resend_is_a_duplicate():
    worker_killed = Fault(name="worker killed", at=100.0, hosts_losing_outcomes=1,
                          repaired_at=105.0, window_end=120.0)
    result = counts(
        posted((1, 90.0), (2, 101.0), (3, 102.0)),
        got((1, "t-1", 90.5), (2, "t-2", 101.4), (2, "t-2", 112.0)),
        "r", [worker_killed],
    )
    assert (result.posted, result.delivered, result.lost, result.lost_seqs) == (3, 2, 1, ["3"])
    assert result.duplicates == 1 and result.per_key_max == 2
    assert (result.duplicate_bound, result.per_key_bound) == (100, 2)
    assert result.within_bound


def test_one_alert_under_two_keys_breaks_the_bound_whatever_the_count():
    result = counts(posted((1, 10.0)), got((1, "t-1", 10.2), (1, "t-9", 10.3)), "r", [])
    assert result.alerts_with_several_keys == 1
    assert not result.within_bound


def test_recovery_is_when_the_last_late_alert_of_the_fault_arrived():
    calm = [(seq, float(seq)) for seq in range(10)]  # delivered in 0.3 s
    postgres = Fault(name="PostgreSQL restarted", at=20.0, hosts_losing_outcomes=2,
                     repaired_at=23.0, window_end=40.0)
    result = counts(
        posted(*calm, (20, 20.5), (21, 25.0)),
        got(*[(seq, f"t-{seq}", t + 0.3) for seq, t in calm],
            (20, "t-20", 27.5), (21, "t-21", 25.3)),
        "r", [postgres],
    )
    row = result.faults[0]
    assert (row.held_s, row.alerts, row.late) == (3.0, 2, 1)
    assert round(row.recovered_after_s, 1) == 7.5
    assert round(row.max_latency_s, 1) == 7.0


def test_a_fault_no_alert_felt_has_no_recovery_time():
    web_killed = Fault(name="web host killed", at=5.0, hosts_losing_outcomes=0, window_end=9.0)
    result = counts(posted((1, 6.0)), got((1, "t-1", 6.4)), "r", [web_killed])
    assert result.faults[0].recovered_after_s is None
    assert result.duplicate_bound == 0


def test_throughput_is_the_burst_over_the_time_to_its_last_first_arrival():
    burst = posted((1, 100.0), (2, 100.0), (3, 100.0), (4, 100.0))
    deliveries = got((1, "a", 100.5), (2, "b", 101.0), (3, "c", 101.5), (4, "d", 102.0),
                     (4, "d", 109.0))
    assert throughput(burst, deliveries, "r") == (4, 2.0)
    assert throughput(burst, deliveries[:3], "r") == (4, 0.0)  # not all arrived yet
