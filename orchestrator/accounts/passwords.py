"""Password rules and argon2id hashing (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from orchestrator.core.errors import InvalidInputError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 accepts more, but a megabyte "password" is only a way to burn CPU

_hasher = PasswordHasher()

# A hash of a throwaway password: verifying against it when the email is unknown costs the same time
# as a real check, so response time does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("no-such-user-password")


def check_password_rules(password: str, email: str) -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    if password.isalpha() or password.isdigit():
        problems.append("letters and at least one digit or symbol")
    local_part = email.split("@")[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append("not containing your email name")
    if problems:
        raise InvalidInputError(422, "password must have " + ", ".join(problems))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
