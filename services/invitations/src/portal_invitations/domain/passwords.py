"""The password policy a client's new password must meet (stated to the user, NIST SP 800-63B).

- between 12 and 128 characters;
- at least 5 different characters (no ``aaaaaaaaaaaa``, no ``121212121212``);
- not a commonly used password and not a simple keyboard or digit sequence;
- not containing the client's e-mail address (its part before ``@``), first name or last name
  (parts of 4 characters or more).
No composition rules (upper case, digit, symbol): they make passwords harder to remember and no
harder to guess, so the policy favours length instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT = 5

_SEQUENCES = (
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
)

_COMMON = frozenset(
    {
        "passwordpassword",
        "password1234",
        "password12345",
        "password123456",
        "motdepasse123",
        "motdepasse1234",
        "wachtwoord123",
        "wachtwoord1234",
        "iloveyou1234",
        "welcome12345",
        "bienvenue123",
        "bienvenue1234",
        "letmein12345",
        "administrator",
        "changeme1234",
        "football1234",
        "sunshine1234",
        "princess1234",
        "trustno11234",
        "azerty123456",
        "qwerty123456",
        "000000000000",
        "123123123123",
        "abc123abc123",
        "okiokiokioki",
    }
)


def _is_sequence(lowered: str) -> bool:
    return any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES)


def _personal_parts(personal: Iterable[str]) -> list[str]:
    parts: list[str] = []
    for value in personal:
        text = value.lower().split("@")[0]
        parts.extend(p for p in re.split(r"[\s.\-_+']+", text) if len(p) >= 4)
    return parts


def password_problems(password: str, personal: Iterable[str] = ()) -> list[str]:
    """The policy codes the password breaks, empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append("password.too_short")
    if len(password) > MAX_LENGTH:
        problems.append("password.too_long")
    lowered = password.lower()
    if len(set(password)) < MIN_DISTINCT:
        problems.append("password.repetitive")
    if lowered in _COMMON or _is_sequence(lowered):
        problems.append("password.too_common")
    if any(part in lowered for part in _personal_parts(personal)):
        problems.append("password.personal_data")
    return problems
