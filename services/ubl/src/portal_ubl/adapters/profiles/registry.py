"""Profiles by name, imported lazily (like fsspec's registry): one module per profile.

An accounting software with no profile of its own falls back to ``peppol-bis3``; an unknown
*profile name* asked for explicitly is an error naming the known ones.
"""

from __future__ import annotations

import importlib

from portal_contracts.values import AccountingSoftware
from portal_ubl.adapters.profiles.base import Profile
from portal_ubl.domain.errors import UnknownProfile

DEFAULT = "peppol-bis3"

_MODULES: dict[str, str] = {
    "peppol-bis3": "portal_ubl.adapters.profiles.peppol_bis3",
    "ubl-be": "portal_ubl.adapters.profiles.ubl_be",
    "exact-online": "portal_ubl.adapters.profiles.exact_online",
    "winbooks": "portal_ubl.adapters.profiles.winbooks",
    "octopus": "portal_ubl.adapters.profiles.octopus",
    "yuki": "portal_ubl.adapters.profiles.yuki",
    "clearfacts": "portal_ubl.adapters.profiles.clearfacts",
    "adsolut": "portal_ubl.adapters.profiles.adsolut",
    "expert-m": "portal_ubl.adapters.profiles.expert_m",
}

_BY_SOFTWARE: dict[AccountingSoftware, str] = {
    AccountingSoftware.EXACT_ONLINE: "exact-online",
    AccountingSoftware.WINBOOKS: "winbooks",
    AccountingSoftware.OCTOPUS: "octopus",
    AccountingSoftware.YUKI: "yuki",
    AccountingSoftware.CLEARFACTS: "clearfacts",
    AccountingSoftware.ADSOLUT: "adsolut",
    AccountingSoftware.EXPERT_M: "expert-m",
}

_CACHE: dict[str, Profile] = {}


def names() -> list[str]:
    return sorted(_MODULES)


def get_profile(name: str) -> Profile:
    if name in _CACHE:
        return _CACHE[name]
    module_name = _MODULES.get(name)
    if module_name is None:
        raise UnknownProfile(name)
    profile: Profile = importlib.import_module(module_name).PROFILE
    _CACHE[name] = profile
    return profile


def profile_for_software(software: AccountingSoftware | str | None) -> Profile:
    """The profile an accounting software needs; anything unknown gets the default."""
    try:
        key = AccountingSoftware(software) if software else None
    except ValueError:
        key = None
    return get_profile(_BY_SOFTWARE.get(key, DEFAULT) if key else DEFAULT)
