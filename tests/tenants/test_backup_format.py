"""The backup file on its own: sealed secrets, MAC, truncation, versions, keys (no database)."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from tenants.backup.format import (
    BackupError,
    BackupReader,
    BackupSecret,
    BackupTampered,
    BackupTooNew,
    BackupTruncated,
    BackupWriter,
    BackupWrongKey,
    backup_verify,
)

SECRET = BackupSecret(passphrase="a long enough passphrase")
CHEAP = 2**10  # scrypt cost for tests; files made for real use 2**15


def _file(records, *, secret=SECRET) -> tuple[bytes, str]:
    out = io.BytesIO()
    writer = BackupWriter(out, header={"tenant": "acme"}, secret=secret, scrypt_n=CHEAP)
    sealed = writer.keys.seal_text("hunter2-webhook-token")
    for record in records:
        writer.record({**record, "secret": sealed})
    writer.close()
    return out.getvalue(), sealed


def _read(data: bytes, secret=SECRET) -> list[dict]:
    return list(BackupReader(io.BytesIO(data), secret=secret))


def test_records_come_back_and_a_secret_opens_only_with_the_files_key():
    data, sealed = _file([{"k": "rows", "n": n} for n in range(3)])

    reader = BackupReader(io.BytesIO(data), secret=SECRET)
    assert [record["n"] for record in reader] == [0, 1, 2]
    assert reader.keys.open_text(sealed) == "hunter2-webhook-token"
    assert b"hunter2" not in gzip.decompress(data)
    assert reader.header["tenant"] == "acme" and reader.header["format_version"] == 1


def test_a_file_cut_anywhere_is_truncated_never_read_as_whole():
    data, _ = _file([{"k": "rows", "n": n} for n in range(200)])
    plain = gzip.decompress(data)
    for cut in (len(plain) // 3, len(plain) - 5, plain.rindex(b"\n", 0, len(plain) - 1) + 1):
        with pytest.raises(BackupTruncated):
            _read(gzip.compress(plain[:cut]))
    with pytest.raises(BackupTruncated):
        _read(data[: len(data) // 2])


def test_a_changed_record_a_dropped_record_or_a_changed_header_is_tampering():
    data, _ = _file([{"k": "rows", "n": n} for n in range(3)])
    lines = gzip.decompress(data).splitlines(keepends=True)
    changed = [*lines[:2], lines[2].replace(b'"n":1', b'"n":7'), *lines[3:]]
    dropped = lines[:2] + lines[3:]
    header = json.loads(lines[0])
    header["tenant"] = "other"
    reheaded = [json.dumps(header).encode() + b"\n", *lines[1:]]
    for spoilt in (changed, dropped, reheaded):
        with pytest.raises(BackupTampered):
            _read(gzip.compress(b"".join(spoilt)))


def test_a_wrong_passphrase_or_the_wrong_kind_of_key_is_said_so():
    data, _ = _file([{"k": "rows"}])
    with pytest.raises(BackupWrongKey, match="wrong passphrase"):
        _read(data, BackupSecret(passphrase="another long passphrase"))
    with pytest.raises(BackupWrongKey, match="not a key file"):
        _read(data, BackupSecret(key_file=b"k" * 40))


def test_a_newer_format_is_refused_before_any_key_is_derived():
    data, _ = _file([])
    lines = gzip.decompress(data).splitlines(keepends=True)
    header = json.loads(lines[0])
    header.update(format_version=2, herald_version="9.0", kdf={"name": "argon9"})
    with pytest.raises(BackupTooNew, match=r"newer Herald \(9.0, format 2\)"):
        _read(gzip.compress(json.dumps(header).encode() + b"\n" + b"".join(lines[1:])))


def test_a_forged_header_cannot_ask_for_an_hour_of_scrypt():
    data, _ = _file([])
    lines = gzip.decompress(data).splitlines(keepends=True)
    header = json.loads(lines[0])
    header["kdf"]["n"] = 2**30
    with pytest.raises(BackupTampered, match="out of bounds"):
        backup_verify(io.BytesIO(gzip.compress(json.dumps(header).encode() + b"\n")),
                      secret=SECRET)


def test_a_key_file_seals_as_well_as_a_passphrase_and_weak_secrets_are_refused():
    key = BackupSecret(key_file=b"0123456789abcdef0123456789abcdef\n")
    data, sealed = _file([{"k": "rows"}], secret=key)
    assert BackupReader(io.BytesIO(data), secret=key).keys.open_text(sealed)
    with pytest.raises(BackupError, match="at least 12"):
        BackupSecret(passphrase="short")
    with pytest.raises(BackupError, match="at least 32 bytes"):
        BackupSecret(key_file=b"tiny")
    with pytest.raises(BackupError):
        _read(b"plain text, not gzip")
