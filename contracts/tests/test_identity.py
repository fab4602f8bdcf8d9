"""Who sees what: one rule for every service (each service's tests check it applies it)."""

from __future__ import annotations

from portal_contracts.identity import EVERYONE, Caller, Role


def test_an_admin_sees_every_group() -> None:
    admin = Caller(office_id="o1", user_id="a", role=Role.ADMIN)
    assert admin.visible_groups() is None
    assert admin.sees_group("any-group")


def test_staff_see_their_groups_and_everyone_and_nothing_else() -> None:
    staff = Caller(office_id="o1", user_id="s", role=Role.STAFF, groups=("g1",))
    assert staff.visible_groups() == {"g1", EVERYONE}
    assert staff.sees_group("g1")
    assert staff.sees_group(EVERYONE)  # the office's default group
    assert not staff.sees_group("g2")


def test_staff_without_groups_still_see_everyone() -> None:
    assert Caller(office_id="o1", user_id="s", role=Role.STAFF).visible_groups() == {EVERYONE}
