"""The interface's translation catalogues: where each one's texts come from,
compiling them with Babel (pure Python, no msgfmt), and extracting their msgids
with Django's makemessages (xgettext) for the completeness test and updates.

One catalogue per app, `<app dir>/locale/<lang>/LC_MESSAGES/django.po`;
Django merges them all at run time. Texts in the top-level templates/ folder
belong to the catalogue of the app that renders them (CATALOGUES below).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TRANSLATED_LANGUAGES = ("fr", "de")  # English is the source language


@dataclass(frozen=True)
class CatalogueSpec:
    """One app's catalogue and the sources (relative to BASE_DIR) whose texts it holds."""

    name: str
    locale_dir: str
    sources: tuple[str, ...]  # folders or files; a trailing "/*.html" takes a folder's files
    exclude: tuple[str, ...] = ()  # sub-folders of a source that have a catalogue of their own


CATALOGUES: tuple[CatalogueSpec, ...] = (
    CatalogueSpec(
        "alerting", "alerting/locale",
        ("alerting", "templates/admin/alerting", "templates/admin/audit",
         "templates/admin/*.html", "templates/registration"),
        exclude=("alerting/reports",),
    ),
    CatalogueSpec("tenants", "tenants/locale", ("tenants",)),
    CatalogueSpec(
        "escalation", "escalation/locale",
        ("escalation", "templates/escalation", "templates/admin/escalation"),
    ),
    CatalogueSpec(
        "receivers", "receivers/locale",
        ("receivers", "templates/chat", "templates/admin/receivers"),
    ),
    CatalogueSpec(
        "reports", "alerting/reports/locale",
        ("alerting/reports", "templates/reports", "templates/admin/reports"),
    ),
)
_PLURALS = {"fr": (2, "(n > 1)"), "de": (2, "(n != 1)")}
_SKIPPED = {"locale", "migrations", "__pycache__"}


def catalogue_by_name(name: str) -> CatalogueSpec:
    return next(spec for spec in CATALOGUES if spec.name == name)


def po_files(*, base: Path = BASE_DIR) -> list[Path]:
    """Every catalogue's .po file present (any app, any language)."""
    found = []
    for spec in CATALOGUES:
        found += sorted((base / spec.locale_dir).glob("*/LC_MESSAGES/*.po"))
    return found


def catalogues_stale(*, base: Path = BASE_DIR) -> list[Path]:
    """The .po files whose .mo is missing or older than them."""
    stale = []
    for po in po_files(base=base):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def catalogue_compile(*, po: Path) -> Path:
    """The .mo beside a .po; fuzzy entries are left out, as msgfmt does."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    mo = po.with_suffix(".mo")
    partial = mo.with_suffix(".mo.tmp")
    with partial.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    partial.replace(mo)  # a reader never sees a half-written catalogue
    return mo


def catalogues_compile(*, base: Path = BASE_DIR, only_stale: bool = False) -> list[Path]:
    targets = catalogues_stale(base=base) if only_stale else po_files(base=base)
    return [catalogue_compile(po=po) for po in targets]


def _source_entries(spec: CatalogueSpec, base: Path) -> Iterator[tuple[str, Path]]:
    """(name in the temporary tree, real path) for every file or folder to extract from."""
    for source in spec.sources:
        if source.endswith("/*.html"):
            folder = base / source[: -len("/*.html")]
            for path in sorted(folder.glob("*.html")):
                yield f"{source[: -len('/*.html')]}/{path.name}", path
            continue
        path = base / source
        if not path.is_dir():
            if path.exists():
                yield source, path
            continue
        for child in sorted(path.iterdir()):
            relative = f"{source}/{child.name}"
            if child.name in _SKIPPED or relative in spec.exclude:
                continue
            if child.is_dir():
                yield from _source_entries(
                    CatalogueSpec(spec.name, spec.locale_dir, (relative,), spec.exclude), base
                )
            else:
                yield relative, child


def catalogue_extract(*, spec: CatalogueSpec, base: Path = BASE_DIR) -> Catalog:
    """Every msgid of the catalogue's sources, by Django's makemessages (xgettext),
    run in a temporary tree of links so that only those sources are read."""
    from django.core.management import call_command

    with tempfile.TemporaryDirectory(prefix="herald-i18n-") as tmp:
        root = Path(tmp)
        (root / "locale").mkdir()
        for name, path in _source_entries(spec, base):
            if path.suffix not in {".py", ".html", ".txt"}:
                continue
            target = root / "src" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
        with contextlib.chdir(root):
            call_command("makemessages", locale=["fr"], symlinks=True, verbosity=0,
                         no_obsolete=True, add_location="file")
        with (root / "locale" / "fr" / "LC_MESSAGES" / "django.po").open("rb") as handle:
            return read_po(handle)


def catalogue_update(*, spec: CatalogueSpec, languages: Iterable[str] = TRANSLATED_LANGUAGES,
                     base: Path = BASE_DIR) -> list[Path]:
    """Brings each language's .po up to the sources: new msgids added untranslated,
    vanished ones dropped, translations kept."""
    template = catalogue_extract(spec=spec, base=base)
    for message in template:
        message.locations = [(path.removeprefix("src/"), line) for path, line in message.locations]
    written = []
    for language in languages:
        po = base / spec.locale_dir / language / "LC_MESSAGES" / "django.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        if po.exists():
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project="Herald", version="1", domain="django",
                              copyright_holder="Herald", last_translator="Herald")
            if language in _PLURALS:  # as Django's own catalogues count, not CLDR's
                catalog._num_plurals, catalog._plural_expr = _PLURALS[language]
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False  # the header: a fuzzy one would be left out of the .mo
        catalog.obsolete.clear()
        with po.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, include_previous=False,
                     sort_output=False)
        written.append(po)
    return written


def catalogue_missing(*, spec: CatalogueSpec, language: str, base: Path = BASE_DIR) -> list[str]:
    """The catalogue's msgids (from its sources) without a usable translation in `language`:
    absent, empty or fuzzy."""
    extracted = catalogue_extract(spec=spec, base=base)
    po = base / spec.locale_dir / language / "LC_MESSAGES" / "django.po"
    translated: dict[object, object] = {}
    if po.exists():
        with po.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and not message.fuzzy and _complete(message.string):
                    translated[_key(message)] = message.string
    return [
        str(message.id[0] if isinstance(message.id, tuple) else message.id)
        for message in extracted
        if message.id and _key(message) not in translated
    ]


def _key(message) -> tuple:
    return (message.id if isinstance(message.id, tuple) else (message.id,), message.context)


def _complete(string) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)
