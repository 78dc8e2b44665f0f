"""What the configuration commands share: reading the file, finding the tenant, printing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.core.management.base import CommandError, OutputWrapper

from alerting.config.loading import Problem
from tenants.models import Tenant


def file_read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def tenant_by_slug(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"no tenant {slug!r}")
    return tenant


def problems_write(problems: Iterable[Problem], *, filename: str, out: OutputWrapper) -> None:
    ordered = sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.dotted))
    for problem in ordered:
        out.write(problem.format(filename))
    errors = sum(1 for problem in ordered if problem.severity == "error")
    warnings = len(ordered) - errors
    out.write(f"{errors} error(s), {warnings} warning(s)")
