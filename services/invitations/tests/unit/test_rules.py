"""Password policy, header safety, sliding windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_invitations.domain.errors import HeaderInjection
from portal_invitations.domain.headers import is_header_safe, refuse_line_breaks
from portal_invitations.domain.passwords import password_problems
from portal_invitations.domain.sending import hour_window, sliding_estimate, window_start

PERSONAL = ("marie.dubois@example.be", "Marie", "Dubois")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-one", "password.too_short"),
        ("x" * 129 + "abcde", "password.too_long"),
        ("aaaaaaaaaaaaaa", "password.repetitive"),
        ("121212121212", "password.repetitive"),
        ("password1234", "password.too_common"),
        ("123456789012", "password.too_common"),
        ("azertyuiopqsdf", "password.too_common"),
        ("ilovemarie-2026", "password.personal_data"),
        ("dubois-forever-7", "password.personal_data"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, problem: str) -> None:
    assert problem in password_problems(password, PERSONAL)


def test_a_long_passphrase_is_accepted() -> None:
    assert password_problems("cheval correct agrafe pile", PERSONAL) == []


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\r\nBcc: x@y.z", "a\x00b", "a\u2028b"])
def test_line_breaks_are_not_header_safe(value: str) -> None:
    assert not is_header_safe(value)
    with pytest.raises(HeaderInjection):
        refuse_line_breaks(subject=value)


def test_ordinary_names_are_header_safe() -> None:
    assert is_header_safe("Émilie Van den Broeck-D'Hondt")
    refuse_line_breaks(name="Émilie", other=None)


def test_windows() -> None:
    now = datetime(2026, 3, 2, 9, 47, 12, tzinfo=UTC)
    assert hour_window(now) == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert window_start(now, timedelta(minutes=15)) == datetime(2026, 3, 2, 9, 45, tzinfo=UTC)
    assert sliding_estimate(10, 2, 0.25) == 9.5
