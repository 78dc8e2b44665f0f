"""Paging people: what an escalation level does for its targets that are not channels.

    snapshot   a level's targets as a running chain keeps them (taken at its start)
    targets    whom the level pages now: on call, team, round robin, person; the fallback
    context    what one tick reads once: schedule snapshots, the receivers carrying pages
    level      one level's people paged, its fallback's receivers notified
    pages      a person's page following their notification rules; stopping pages
    history    events, audit entries, metrics and log lines for pages and gaps
    acks       who acknowledged through a page's link ("Alice, by the link in their email")

escalation.services runs the steps and calls `level_page`; the tick runs due
page rules (`page_rule_run`) beside due steps. The modules are imported by
name (this package imports nothing, so the apps can import it early).
"""
