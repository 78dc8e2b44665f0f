"""The environment the sample files' ${VAR} references name (test values only)."""

ENV = {
    "SRE_SLACK_URL": "https://93.184.216.34/services/T0/B0/x",
    "DBA_PAGERDUTY_KEY": "0123456789abcdef0123456789abcdef",
    "AUDIT_HOOK_URL": "https://93.184.216.34/hook",
    "AUDIT_HOOK_TOKEN": "tok",
    "ONCALL_SMTP_PASSWORD": "pw",
    "PRIVATE_HOOK_URL": "http://10.1.2.3/hook",
}

ONCALL_ENV = {
    "PAGER_SMTP_PASSWORD": "smtp-pw",
    "ALICE_PRIVATE_EMAIL": "alice.private@example.org",
}
