"""Who sees which sites, when a session is over, when sign-in is locked: the pure rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import ManagersSettings
from processors.access import (
    AccessError,
    SigninThrottle,
    User,
    check_user,
    load_hierarchy,
    may_act,
    parse_hierarchy,
    session_over,
    signin_wait,
    visible_sites,
)

HIERARCHY = parse_hierarchy(
    {"regions": {"nord": {"sites": ["paris-bercy", "lille-centre"]}, "sud-est": {"sites": ["lyon-part-dieu"]}}}
)
LYON_MANAGER = User("m.dupont", "m.dupont@example.org", "manager", frozenset({"lyon-part-dieu"}))
NORD_LEAD = User("r.martin", "r.martin@example.org", "regional", region="nord")
ADMIN = User("a.admin", "a.admin@example.org", "admin")


def test_the_shipped_hierarchy_has_the_demos_sites() -> None:
    shipped = load_hierarchy(ManagersSettings().sites_file)
    assert shipped.sites == {"lyon-part-dieu", "paris-bercy", "lille-centre"}  # tools/simulate.py's SITES
    assert shipped.sites_of("nord") == {"paris-bercy", "lille-centre"}


def test_a_manager_sees_and_acts_on_their_sites_only() -> None:
    assert visible_sites(LYON_MANAGER, HIERARCHY).sites == {"lyon-part-dieu"}
    assert may_act(LYON_MANAGER, "lyon-part-dieu", HIERARCHY)
    assert not may_act(LYON_MANAGER, "paris-bercy", HIERARCHY)
    assert not may_act(LYON_MANAGER, "a-site-no-region-lists", HIERARCHY)


def test_a_regional_lead_sees_every_site_of_the_region_and_no_other() -> None:
    assert visible_sites(NORD_LEAD, HIERARCHY).sites == {"paris-bercy", "lille-centre"}
    assert may_act(NORD_LEAD, "lille-centre", HIERARCHY)
    assert not may_act(NORD_LEAD, "lyon-part-dieu", HIERARCHY)


def test_an_admin_sees_every_site_even_one_no_region_lists_yet() -> None:
    scope = visible_sites(ADMIN, HIERARCHY)
    assert scope.everywhere and scope.sites == HIERARCHY.sites
    assert may_act(ADMIN, "a-site-opened-yesterday", HIERARCHY)


@pytest.mark.parametrize("user", [LYON_MANAGER, NORD_LEAD, ADMIN])
def test_a_disabled_account_sees_nothing(user: User) -> None:
    disabled = User(user.name, user.email, user.role, user.sites, user.region, disabled=True)
    assert visible_sites(disabled, HIERARCHY).sites == frozenset()
    assert not may_act(disabled, "lyon-part-dieu", HIERARCHY)


@pytest.mark.parametrize(
    ("user", "says"),
    [
        (User("m", "m@example.org", "manager"), "one or more sites"),
        (User("m", "m@example.org", "manager", frozenset({"lyon"}), region="nord"), "no region"),
        (User("r", "r@example.org", "regional"), "a region"),
        (User("r", "r@example.org", "regional", region="atlantis"), "expected one of nord, sud-est"),
        (User("a", "a@example.org", "admin", frozenset({"lyon"})), "every site"),
        (User("x", "x@example.org", "owner"), "role 'owner'"),  # type: ignore[arg-type]
        (User("bad name", "b@example.org", "admin"), "user name 'bad name'"),
        (User("m", "not an address", "admin"), "e-mail"),
        (User("m", "m@example.org", "manager", frozenset({"lyon/../x"})), "site 'lyon/../x'"),
    ],
)
def test_an_account_that_does_not_hold_together_is_refused_with_why(user: User, says: str) -> None:
    with pytest.raises(AccessError, match=says.replace("(", r"\(")):
        check_user(user, HIERARCHY)


def test_well_formed_accounts_pass() -> None:
    for user in (LYON_MANAGER, NORD_LEAD, ADMIN):
        assert check_user(user, HIERARCHY) is user


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({}, "'regions' mapping"),
        ({"regions": {"nord": {"sites": []}}}, "non-empty list"),
        ({"regions": {"nord": {"sites": ["lille"]}, "est": {"sites": ["lille"]}}}, "in both 'nord' and 'est'"),
        ({"regions": {"nord": {"sites": ["lille centre"]}}}, "site 'lille centre'"),
    ],
)
def test_a_broken_hierarchy_is_refused_with_why(data: object, says: str) -> None:
    with pytest.raises(AccessError, match=says):
        parse_hierarchy(data)


def test_an_unreadable_sites_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match=r"missing\.yaml"):
        load_hierarchy(tmp_path / "missing.yaml")


def test_a_session_ends_when_idle_or_too_old_whichever_first() -> None:
    idle, absolute = 1800.0, 8 * 3600.0
    assert session_over(0, 0, 1799, idle, absolute) is None
    assert session_over(0, 0, 1800, idle, absolute) == "idle"
    assert session_over(0, 7 * 3600, 7 * 3600 + 60, idle, absolute) is None  # busy: the idle clock restarted
    assert session_over(0, 8 * 3600 - 1, 8 * 3600, idle, absolute) == "absolute"  # busy, but too old


RULE = SigninThrottle(max_failures=5, window=900.0, lock=900.0)


def test_five_failures_within_the_window_lock_sign_in_for_the_lock_time() -> None:
    failures = [0.0, 10.0, 20.0, 30.0, 40.0]
    assert signin_wait(failures[:4], 41.0, RULE) == 0.0
    assert signin_wait(failures, 41.0, RULE) == pytest.approx(40 + 900 - 41)
    assert signin_wait(failures, 939.0, RULE) == pytest.approx(1.0)
    assert signin_wait(failures, 940.0, RULE) == 0.0


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    assert signin_wait([0.0, 300.0, 600.0, 800.0, 901.0], 902.0, RULE) == 0.0


def test_after_a_lock_ends_one_more_failure_does_not_lock_again_at_once() -> None:
    failures = [0.0, 10.0, 20.0, 30.0, 40.0, 941.0]  # the lock ended at 940
    assert signin_wait(failures, 942.0, RULE) == 0.0


@given(st.lists(st.floats(0, 10_000), max_size=12).map(sorted), st.floats(0, 20_000))
def test_the_wait_is_never_negative_nor_longer_than_the_lock(failures: list[float], now: float) -> None:
    now = max([now, *failures])
    assert 0.0 <= signin_wait(failures, now, RULE) <= RULE.lock


def test_the_thresholds_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = ManagersSettings()
    assert (defaults.signin_max_failures, defaults.signin_window, defaults.signin_lock) == (5, 900.0, 900.0)
    monkeypatch.setenv("MIROIR_MANAGERS_SIGNIN_LOCK", "2s")
    monkeypatch.setenv("MIROIR_MANAGERS_SIGNIN_MAX_FAILURES", "3")
    assert (ManagersSettings().signin_lock, ManagersSettings().signin_max_failures) == (2.0, 3)
