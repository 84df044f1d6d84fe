"""HTTP Basic authentication against a file of hashed credentials.

The credentials file has one user per line, ``name:scrypt$N$r$p$salt$hash`` (salt and hash in
base64); blank lines and lines starting with ``#`` are ignored. Passwords are never stored: a line
is made with :func:`hash_password` (``headwater server --add-user NAME --auth-file FILE`` reads the
password from standard input and appends the line).

Checking a password with scrypt costs tens of milliseconds on purpose. A client sends its credentials
with every request, so a credential that verified is remembered by a SHA-256 digest of the header for
the life of the server (never the password itself); a wrong one pays the full cost every time.

A request without valid credentials is answered 401 with ksqlDB's body before its body is read or
anything runs.

Example:
    >>> line = credential_line("alice", "s3cret")
    >>> store = CredentialStore.parse(line)
    >>> store.check_header("Basic " + base64.b64encode(b"alice:s3cret").decode())
    'alice'
    >>> store.check_header("Basic " + base64.b64encode(b"alice:nope").decode()) is None
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import HeadwaterError

__all__ = ["AuthFileError", "CredentialStore", "credential_line", "hash_password"]

_SCHEME = "scrypt"
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32


class AuthFileError(HeadwaterError, ValueError):
    """The credentials file cannot be read or has a malformed line (the message names the line)."""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=_HASH_BYTES)


def hash_password(password: str) -> str:
    """The stored form of ``password``: ``scrypt$N$r$p$salt$hash`` with a fresh random salt."""
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(password, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"{_SCHEME}${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def credential_line(user: str, password: str) -> str:
    """One line of a credentials file.

    Raises:
        AuthFileError: a user name that is empty or holds ``:`` or a line break.
    """
    if not user or ":" in user or "\n" in user or "\r" in user:
        raise AuthFileError(f"Invalid user name {user!r}: it must be non-empty and hold no ':' or line break")
    return f"{user}:{hash_password(password)}"


@dataclass(frozen=True, slots=True)
class _StoredPassword:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(_scrypt(password, self.salt, self.n, self.r, self.p), self.digest)


class CredentialStore:
    """The users allowed in, and the check of an ``Authorization`` header against them."""

    def __init__(self, users: dict[str, _StoredPassword]) -> None:
        self._users = users
        self._verified: dict[bytes, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path) -> CredentialStore:
        """Read a credentials file.

        Raises:
            AuthFileError: the file is missing or unreadable, a line is malformed, or it names no user.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise AuthFileError(f"Cannot read credentials file {path}: {error.strerror or error}") from None
        return cls.parse(text, source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str = "<credentials>") -> CredentialStore:
        """Credentials from the text of a credentials file (see the module docstring)."""
        users: dict[str, _StoredPassword] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            user, sep, stored = line.partition(":")
            if not sep or not user:
                raise AuthFileError(f"{source}:{number}: expected 'user:{_SCHEME}$N$r$p$salt$hash'")
            users[user] = _parse_stored(stored, f"{source}:{number}")
        if not users:
            raise AuthFileError(f"{source}: names no user, so nobody could log in")
        return cls(users)

    @property
    def users(self) -> list[str]:
        return sorted(self._users)

    def check_header(self, header: str | None) -> str | None:
        """The user an ``Authorization: Basic ...`` header proves, or None."""
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic" or not token:
            return None
        key = hashlib.sha256(token.strip().encode("latin-1", "replace")).digest()
        with self._lock:
            known = self._verified.get(key)
        if known is not None:
            return known
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        stored = self._users.get(user)
        if not sep or stored is None or not stored.matches(password):
            return None
        with self._lock:
            self._verified[key] = user
        return user


def _parse_stored(stored: str, where: str) -> _StoredPassword:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise AuthFileError(f"{where}: expected '{_SCHEME}$N$r$p$salt$hash' after the user name")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        raise AuthFileError(f"{where}: the scrypt parameters, salt or hash are malformed") from None
    return _StoredPassword(n, r, p, salt, digest)
