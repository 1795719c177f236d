"""Who may see and act on which site's callbacks, when a session is over, when sign-in is refused.

The managers' app (services/managers/) asks these rules; nothing here reads a clock or a store
(times are passed in), so every rule is a unit test away.

- A `manager` sees and acts on their own sites; a `regional` lead on every site of their region
  (they are the escalation group of those sites, so they act there too); an `admin` everywhere,
  sites no region lists included (a site appears in the queue the day its first callback comes).
- The sites hierarchy (regions and their sites) is a YAML file: `MIROIR_MANAGERS_SITES_FILE`,
  by default the shipped `config/sites.yaml`.
- A disabled account sees nothing, whatever its role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

Role = Literal["manager", "regional", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class AccessError(ValueError):
    """An account or a hierarchy that does not hold together; the message says what and why."""


def check_name(name: str, what: str = "name") -> str:
    """A user, site or region name: 1 to 64 letters, digits, '-', '_' or '.' (they end up in Redis
    keys and URLs)."""
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise AccessError(f"{what} {name!r}: expected 1 to 64 letters, digits, '-', '_' or '.'")
    return name


# ---------------------------------------------------------------- the sites hierarchy


@dataclass(frozen=True)
class Hierarchy:
    regions: Mapping[str, frozenset[str]]  # region -> its sites

    @property
    def sites(self) -> frozenset[str]:
        return frozenset().union(*self.regions.values())

    def sites_of(self, region: str) -> frozenset[str]:
        return self.regions.get(region, frozenset())


def parse_hierarchy(data: Any, source: str = "sites file") -> Hierarchy:
    """`{"regions": {region: {"sites": [site, ...]}}}` -> Hierarchy; a site in two regions is an error
    (its escalations would go to two leads)."""
    regions = data.get("regions") if isinstance(data, dict) else None
    if not isinstance(regions, dict) or not regions:
        raise AccessError(f"{source}: expected a 'regions' mapping, each region with its 'sites'")
    parsed: dict[str, frozenset[str]] = {}
    owner: dict[str, str] = {}
    for region, body in regions.items():
        sites = body.get("sites") if isinstance(body, dict) else None
        if not isinstance(sites, list) or not sites:
            raise AccessError(f"{source}: region {region!r} needs a non-empty list of 'sites'")
        for site in sites:
            check_name(str(site), f"{source}: site")
            if site in owner:
                raise AccessError(f"{source}: site {site!r} is in both {owner[site]!r} and {region!r}")
            owner[site] = region
        parsed[check_name(str(region), f"{source}: region")] = frozenset(sites)
    return Hierarchy(parsed)


def load_hierarchy(path: Path) -> Hierarchy:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise AccessError(f"sites file {path}: {error}") from None
    return parse_hierarchy(data, str(path))


# ---------------------------------------------------------------- accounts and what they see


@dataclass(frozen=True)
class User:
    name: str
    email: str
    role: Role
    sites: frozenset[str] = frozenset()  # a manager's
    region: str | None = None  # a regional lead's
    disabled: bool = False


def check_user(user: User, hierarchy: Hierarchy | None = None) -> User:
    """A manager has sites and no region, a regional lead a region (of the hierarchy, when given)
    and no sites, an admin neither; the e-mail address looks like one."""
    check_name(user.name, "user name")
    if user.email.count("@") != 1 or any(c.isspace() for c in user.email) or len(user.email) > 254:
        raise AccessError(f"e-mail {user.email!r}: expected one address, like m.dupont@example.org")
    if user.role not in ROLES:
        raise AccessError(f"role {user.role!r}: expected one of {', '.join(ROLES)}")
    for site in user.sites:
        check_name(site, "site")
    if user.role == "manager" and (not user.sites or user.region):
        raise AccessError(f"{user.name}: a manager has one or more sites (--site) and no region")
    if user.role == "regional":
        if not user.region or user.sites:
            raise AccessError(f"{user.name}: a regional lead has a region (--region) and no sites of their own")
        if hierarchy is not None and user.region not in hierarchy.regions:
            raise AccessError(f"region {user.region!r}: expected one of {', '.join(sorted(hierarchy.regions))}")
    if user.role == "admin" and (user.sites or user.region):
        raise AccessError(f"{user.name}: an admin sees every site; give no --site or --region")
    return user


@dataclass(frozen=True)
class Scope:
    """The sites a user sees; `everywhere` for an admin (any site, listed or not)."""

    sites: frozenset[str]
    everywhere: bool = False

    def covers(self, site: str) -> bool:
        return self.everywhere or site in self.sites


def visible_sites(user: User, hierarchy: Hierarchy) -> Scope:
    if user.disabled:
        return Scope(frozenset())
    if user.role == "admin":
        return Scope(hierarchy.sites, everywhere=True)
    if user.role == "regional":
        return Scope(hierarchy.sites_of(user.region or ""))
    return Scope(user.sites)


def may_act(user: User, site: str, hierarchy: Hierarchy) -> bool:
    """Claim, resolve, see a callback of `site`: whoever sees the site (see the module's roles)."""
    return visible_sites(user, hierarchy).covers(site)


# ---------------------------------------------------------------- sessions and sign-in


def session_over(created_at: float, last_seen: float, now: float, idle: float, absolute: float) -> str | None:
    """Why a session may no longer be used ('idle': unused for `idle` seconds; 'absolute': older
    than `absolute` seconds, however busy), or None while it may."""
    if now - created_at >= absolute:
        return "absolute"
    if now - last_seen >= idle:
        return "idle"
    return None


@dataclass(frozen=True)
class SigninThrottle:
    """`max_failures` wrong passwords for one name within `window` seconds lock that name's sign-in
    for `lock` seconds from the last of them, the right password included."""

    max_failures: int
    window: float
    lock: float


def signin_wait(failures: Sequence[float], now: float, rule: SigninThrottle) -> float:
    """Seconds until `failures` (the name's failed sign-ins, oldest first) let it try again; 0.0 now.

    Tries refused while locked are not failures (the caller does not record them), so a lock ends
    `lock` seconds after the failure that set it, and the next lock takes `max_failures` new ones."""
    if len(failures) < rule.max_failures:
        return 0.0
    recent = failures[-rule.max_failures :]
    if recent[-1] - recent[0] > rule.window:
        return 0.0
    # lock - elapsed, not (last + lock) - now: the sum of two large floats rounds past the lock.
    return min(rule.lock, max(0.0, rule.lock - (now - recent[-1])))
