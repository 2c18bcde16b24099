"""Password rules and hashing for console users (argon2id)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 4
# Long passwords that still top breach lists; a guesser tries these first.
COMMON_PASSWORDS = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456789123", "1q2w3e4r5t6y",
    "qwertyuiopas", "qwertyuiop123", "qwerty123456", "qwertyqwerty", "1qaz2wsx3edc",
    "password1234", "password12345", "password123!", "passwordpassword", "password1!23",
    "iloveyou1234", "abcdefghijkl", "abcdefghijklmnop", "abc123456789", "letmein12345",
    "welcome12345", "welcome123456", "administrator", "admin1234567", "changeme1234",
    "trustno1trustno1", "football1234", "baseball1234", "sunshine1234", "princess1234",
    "monkey123456", "dragon123456", "starwars1234", "parley123456", "parleyparley",
})


class WeakPassword(ValueError):
    """The password is too easy to guess to protect debtor data."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def password_problem(password: str) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "a password cannot be only spaces"
    if len(set(password.lower())) < MIN_DISTINCT_CHARACTERS:
        return "use more than a few different characters"
    if password.lower() in COMMON_PASSWORDS:
        return "that password is one of the most common; choose another"
    return None


def check_password(password: str) -> None:
    """Raise WeakPassword when `password` breaks the rules."""
    problem = password_problem(password)
    if problem is not None:
        raise WeakPassword(problem)


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (refuses weak passwords)."""
    check_password(password)
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False for a wrong password or an unreadable hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so timing does not reveal it."""
    return _hasher().hash("parley-dummy-password-never-matches")
