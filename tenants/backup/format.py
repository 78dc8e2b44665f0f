"""The tenant backup file: framing, keys, MAC and sealed secrets. Pure: no database.

A backup is a gzip stream of JSON lines:

    line 1        header  {"format": "herald-tenant-backup", "format_version": 1, ...}
    lines 2..n-1  records {"k": "...", ...} (what they mean: tenants/backup/dump.py)
    line n        trailer {"k": "end", "records": N, "mac": "<hex>"}

The operator's passphrase (scrypt) or key file (HKDF) gives two keys: one
seals each secret (Fernet), one MACs every line before the trailer
(HMAC-SHA256), the header included. So a truncated file has no trailer, a
changed byte breaks the MAC, and a wrong passphrase fails the header's key
check before anything else is read. Secrets are never in the file in clear;
the rest (configuration, history, audit chain) is, as in a database dump.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "herald-tenant-backup"
FORMAT_VERSION = 1
# scrypt's cost: about 0.1 s and 32 MiB. A file may ask for less (tests) or
# more, within bounds, so a forged header cannot make a restore spend hours.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAX_N = 2**20
# Bounded memory when reading: no line (a batch of rows) may exceed this.
MAX_LINE_BYTES = 64 * 1024 * 1024
KEY_FILE_MIN_BYTES = 32
_KEY_CHECK = b"herald-tenant-backup key check"


class BackupError(Exception):
    """A backup that cannot be read or restored; the message says why, never a secret."""


class BackupTruncated(BackupError):
    pass


class BackupTampered(BackupError):
    pass


class BackupWrongKey(BackupError):
    pass


class BackupTooNew(BackupError):
    pass


@dataclass(frozen=True)
class BackupSecret:
    """What the operator gives: a passphrase, or the bytes of a key file."""

    passphrase: str | None = None
    key_file: bytes | None = None

    def __post_init__(self) -> None:
        if (self.passphrase is None) == (self.key_file is None):
            raise BackupError("give either a passphrase or a key file")
        if self.passphrase is not None and len(self.passphrase) < 12:
            raise BackupError("the passphrase must be at least 12 characters long")
        if self.key_file is not None and len(self.key_file.strip()) < KEY_FILE_MIN_BYTES:
            raise BackupError(f"the key file must hold at least {KEY_FILE_MIN_BYTES} bytes")


@dataclass(frozen=True)
class BackupKeys:
    seal: Fernet
    mac: bytes

    def seal_text(self, text: str) -> str:
        return self.seal.encrypt(text.encode("utf-8")).decode("ascii")

    def open_text(self, token: str) -> str:
        try:
            return self.seal.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, AttributeError) as exc:
            raise BackupTampered("a sealed secret does not open with this file's key") from exc

    def key_check(self) -> str:
        return hmac.new(self.mac, _KEY_CHECK, hashlib.sha256).hexdigest()


def kdf_new(secret: BackupSecret, *, scrypt_n: int = SCRYPT_N) -> dict[str, Any]:
    """Fresh derivation parameters (a random salt) for a new file."""
    salt = base64.b64encode(os.urandom(16)).decode("ascii")
    if secret.passphrase is not None:
        return {"name": "scrypt", "salt": salt, "n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P}
    return {"name": "hkdf-sha256-key-file", "salt": salt}


def keys_derive(secret: BackupSecret, kdf: dict[str, Any]) -> BackupKeys:
    try:
        salt = base64.b64decode(kdf["salt"])
        name = kdf["name"]
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupTampered("the header's key derivation is unreadable") from exc
    if name == "scrypt":
        if secret.passphrase is None:
            raise BackupWrongKey("this backup is sealed with a passphrase, not a key file")
        n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
        valid = all(isinstance(v, int) for v in (n, r, p))
        if not valid or not (2 <= n <= SCRYPT_MAX_N and n & (n - 1) == 0 and r <= 32 and p <= 4):
            raise BackupTampered("the header's scrypt parameters are out of bounds")
        raw = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(secret.passphrase.encode())
    elif name == "hkdf-sha256-key-file":
        if secret.key_file is None:
            raise BackupWrongKey("this backup is sealed with a key file, not a passphrase")
        raw = HKDF(
            algorithm=hashes.SHA256(), length=64, salt=salt, info=FORMAT.encode()
        ).derive(secret.key_file.strip())
    else:
        raise BackupTampered(f"unknown key derivation {name!r}")
    return BackupKeys(seal=Fernet(base64.urlsafe_b64encode(raw[:32])), mac=raw[32:])


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


class BackupWriter:
    """Writes a backup to a binary stream: the header, records, then the trailer."""

    def __init__(self, stream: IO[bytes], *, header: dict[str, Any], secret: BackupSecret,
                 scrypt_n: int = SCRYPT_N) -> None:
        kdf = kdf_new(secret, scrypt_n=scrypt_n)
        self.keys = keys_derive(secret, kdf)
        self._gzip = gzip.GzipFile(fileobj=stream, mode="wb", compresslevel=6)
        self._mac = hmac.new(self.keys.mac, digestmod=hashlib.sha256)
        self.records = 0
        self._write({**header, "format": FORMAT, "format_version": FORMAT_VERSION,
                     "kdf": kdf, "key_check": self.keys.key_check()})

    def _write(self, obj: dict[str, Any]) -> None:
        data = _line(obj)
        if len(data) > MAX_LINE_BYTES:
            raise BackupError("a record is larger than a backup line may be")
        self._mac.update(data)
        self._gzip.write(data)

    def record(self, obj: dict[str, Any]) -> None:
        self._write(obj)
        self.records += 1

    def close(self) -> None:
        trailer = {"k": "end", "records": self.records, "mac": self._mac.hexdigest()}
        self._gzip.write(_line(trailer))
        self._gzip.close()


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    source = gzip.GzipFile(fileobj=stream, mode="rb")
    try:
        while True:
            line = source.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
                raise BackupTruncated("the file ends in the middle of a record (truncated)")
            yield line
    except EOFError as exc:
        raise BackupTruncated("the file ends before its end (truncated)") from exc
    except (OSError, zlib.error) as exc:
        raise BackupTampered(f"the file is not a readable backup ({exc})") from exc


def _parse(line: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except (UnicodeError, ValueError) as exc:
        raise BackupTampered("a record of the file is not JSON (changed or damaged)") from exc
    if not isinstance(obj, dict):
        raise BackupTampered("a record of the file is not an object (changed or damaged)")
    return obj


def header_check(header: dict[str, Any]) -> None:
    """The file is a backup this Herald can read (before any key is derived)."""
    if header.get("format") != FORMAT:
        raise BackupError("this is not a Herald tenant backup")
    version = header.get("format_version")
    if not isinstance(version, int):
        raise BackupTampered("the header has no format version")
    if version > FORMAT_VERSION:
        raise BackupTooNew(
            f"the backup was made by a newer Herald ({header.get('herald_version', '?')}, "
            f"format {version}); this Herald reads format {FORMAT_VERSION} and older: "
            "upgrade Herald first"
        )


class BackupReader:
    """Reads a backup, checking header, key and MAC; iterate it for the records.

    The MAC is checked at the trailer, after the last record has been
    yielded: callers apply records inside a transaction and let an exception
    roll it back, or read the file once with `backup_verify` first.
    """

    def __init__(self, stream: IO[bytes], *, secret: BackupSecret) -> None:
        self._lines = _lines(stream)
        first = next(self._lines, None)
        if first is None:
            raise BackupTruncated("the file is empty")
        self.header = _parse(first)
        header_check(self.header)
        self.keys = keys_derive(secret, self.header.get("kdf") or {})
        if not hmac.compare_digest(str(self.header.get("key_check", "")),
                                   self.keys.key_check()):
            raise BackupWrongKey("wrong passphrase or key file for this backup")
        self._mac = hmac.new(self.keys.mac, first, hashlib.sha256)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        count = 0
        for line in self._lines:
            obj = _parse(line)
            if obj.get("k") == "end":
                if next(self._lines, None) is not None:
                    raise BackupTampered("the file goes on after its end")
                if not hmac.compare_digest(str(obj.get("mac", "")), self._mac.hexdigest()):
                    raise BackupTampered("the file's MAC does not match its content "
                                         "(it was changed after it was written)")
                if obj.get("records") != count:
                    raise BackupTampered("the file's record count does not match")
                return
            self._mac.update(line)
            count += 1  # noqa: SIM113 - checked against the trailer's count
            yield obj
        raise BackupTruncated("the file has no end (truncated)")


def backup_verify(stream: IO[bytes], *, secret: BackupSecret) -> dict[str, Any]:
    """Read a whole backup (bounded memory), raising BackupError if anything is wrong;
    its header."""
    reader = BackupReader(stream, secret=secret)
    for _record in reader:
        pass
    return reader.header
