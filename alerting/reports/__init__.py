"""Reports on a tenant's history: acknowledgement and resolution times, SLA, noise, charts."""
