"""An office's connections to its accounting software, and the rules each must satisfy.

A connection has a name (the "nom de la connexion" the clients' integration settings refer to),
a kind, settings anyone in the office may read, and secrets nobody reads back: the API never
returns them, logs and events never carry them, and the store keeps them encrypted
(``Secrets`` port). An sFTP connection pins its server's host key: without one it is refused,
unless the admin accepts the key a "test connection" showed (``accept_host_key``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from portal_contracts.values import InvalidValue, TransferMethod, normalise_folder

NAME = re.compile(r"^[\w][\w .@()-]{0,62}[\w)]$|^\w$")
HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
HOST_KEY = re.compile(
    r"^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|rsa-sha2-(256|512)) [A-Za-z0-9+/]+={0,3}$"
)
USER = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Kind(StrEnum):
    """What a connection is; the channel that uses it is :data:`CHANNEL`."""

    SFTP = "sftp"
    ONEDRIVE = "onedrive"
    CLEARFACTS = "clearfacts"
    AGENT = "agent"


CHANNEL = {
    Kind.SFTP: TransferMethod.SFTP,
    Kind.ONEDRIVE: TransferMethod.ONEDRIVE,
    Kind.CLEARFACTS: TransferMethod.API,
    Kind.AGENT: TransferMethod.AGENT,
}
# For each kind: its settings (required ones first) and its secrets.
SETTINGS: dict[Kind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Kind.SFTP: (("host", "username"), ("port", "host_key", "base_folder")),
    Kind.ONEDRIVE: (("tenant_id", "client_id", "drive_id"), ("base_folder",)),
    Kind.CLEARFACTS: ((), ()),
    Kind.AGENT: ((), ("base_folder",)),
}
SECRETS: dict[Kind, tuple[str, ...]] = {
    Kind.SFTP: ("password", "private_key"),
    Kind.ONEDRIVE: ("client_secret", "certificate"),  # a secret, or a PEM key + certificate
    Kind.CLEARFACTS: ("token",),
    Kind.AGENT: (),
}


# The channels whose clients name no connection (the office has one of that kind), and its kind.
SOLE_KIND = {TransferMethod.ONEDRIVE: Kind.ONEDRIVE, TransferMethod.API: Kind.CLEARFACTS}


def admin_consent_url(connection: Connection, login_url: str) -> str | None:
    """Where the office's Microsoft 365 administrator grants the portal's app its application
    permissions in their tenant (once per tenant, again after a permission change)."""
    if connection.kind is not Kind.ONEDRIVE:
        return None
    tenant, client = connection.settings["tenant_id"], connection.settings["client_id"]
    return f"{login_url.rstrip('/')}/{tenant}/adminconsent?client_id={client}"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str


class ConnectionInvalid(Exception):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(", ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


@dataclass
class Connection:
    office_id: str
    name: str
    kind: Kind
    settings: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)  # clear only in memory, never shown
    version: int = 1

    @property
    def channel(self) -> TransferMethod:
        return CHANNEL[self.kind]

    def public(self) -> dict[str, Any]:
        """What may be shown: the settings, and which secrets are set (not their values)."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "settings": dict(self.settings),
            "secrets_set": sorted(k for k, v in self.secrets.items() if v),
            "version": self.version,
        }


def build(
    office_id: str,
    name: str,
    kind: Kind,
    settings: Mapping[str, Any],
    secrets: Mapping[str, str],
    *,
    kept_secrets: Mapping[str, str] | None = None,
) -> Connection:
    """A valid connection from what the admin typed, or every problem at once.

    ``kept_secrets``: an edit that leaves a secret out keeps the stored one (the API never
    shows secrets, so a form cannot send them back)."""
    problems: list[FieldProblem] = []
    if not NAME.match(name.strip()):
        problems.append(FieldProblem("name", "connection.name_invalid"))
    required, optional = SETTINGS[kind]
    clean: dict[str, Any] = {}
    for key in (*required, *optional):
        value = settings.get(key)
        if value in (None, ""):
            if key in required:
                problems.append(FieldProblem(f"settings.{key}", "connection.required"))
            continue
        try:
            clean[key] = _setting(key, value)
        except InvalidValue as exc:
            problems.append(FieldProblem(f"settings.{key}", exc.code))
    for key in set(settings) - {*required, *optional}:
        problems.append(FieldProblem(f"settings.{key}", "connection.unknown_field"))
    merged = {**(kept_secrets or {}), **{k: v for k, v in secrets.items() if v}}
    for key in set(secrets) - set(SECRETS[kind]):
        problems.append(FieldProblem(f"secrets.{key}", "connection.unknown_field"))
    problems += _secret_problems(kind, merged)
    if problems:
        raise ConnectionInvalid(problems)
    if kind is Kind.SFTP:
        clean.setdefault("port", 22)
    return Connection(office_id, name.strip(), kind, clean, merged)


def accept_host_key(connection: Connection, host_key: str) -> None:
    if not HOST_KEY.match(host_key):
        raise ConnectionInvalid([FieldProblem("settings.host_key", "connection.host_key_invalid")])
    connection.settings["host_key"] = host_key


def _setting(key: str, value: Any) -> Any:
    text = str(value).strip()
    if key == "port":
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise InvalidValue("connection.port_invalid")
        return int(text)
    if key == "host" and not HOST.match(text):
        raise InvalidValue("connection.host_invalid")
    if key == "host_key" and not HOST_KEY.match(text):
        raise InvalidValue("connection.host_key_invalid")
    if key == "username" and not USER.match(text):
        raise InvalidValue("connection.username_invalid")
    if key in {"tenant_id", "client_id"} and not GUID.match(text):
        raise InvalidValue("connection.guid_invalid")
    if key == "drive_id" and not re.fullmatch(r"[A-Za-z0-9!_-]{1,200}", text):
        raise InvalidValue("connection.drive_invalid")
    if key == "base_folder":
        return normalise_folder(text)
    return text


def _secret_problems(kind: Kind, secrets: Mapping[str, str]) -> list[FieldProblem]:
    if kind is Kind.SFTP and not (secrets.get("password") or secrets.get("private_key")):
        return [FieldProblem("secrets.password", "connection.sftp_credentials_required")]
    if (
        kind is Kind.SFTP
        and secrets.get("private_key", "").strip()
        and "PRIVATE KEY" not in secrets["private_key"]
    ):
        return [FieldProblem("secrets.private_key", "connection.private_key_invalid")]
    if kind is Kind.ONEDRIVE and not (secrets.get("client_secret") or secrets.get("certificate")):
        return [FieldProblem("secrets.client_secret", "connection.onedrive_credentials_required")]
    certificate = secrets.get("certificate", "") if kind is Kind.ONEDRIVE else ""
    if certificate and not ("PRIVATE KEY" in certificate and "CERTIFICATE" in certificate):
        return [FieldProblem("secrets.certificate", "connection.certificate_invalid")]
    if kind is Kind.CLEARFACTS:
        token = secrets.get("token", "")
        # Clearfacts personal access tokens are "always exactly 80 ASCII characters".
        if len(token) != 80 or not token.isascii() or not token.isprintable():
            return [FieldProblem("secrets.token", "connection.clearfacts_token_invalid")]
    return []


@dataclass(frozen=True)
class EmailIdentity:
    """The sender address the office's accounting packages must allow (Exact Online's "allowed
    senders"): the platform sends from it, through the platform's SMTP relay."""

    office_id: str
    sender: str
    display_name: str = ""
    version: int = 1

    @classmethod
    def build(
        cls, office_id: str, sender: str, display_name: str, version: int = 1
    ) -> EmailIdentity:
        problems = []
        if not EMAIL.match(sender.strip()):
            problems.append(FieldProblem("sender", "connection.sender_invalid"))
        if any(c in display_name for c in "\r\n\x00") or len(display_name) > 100:
            problems.append(FieldProblem("display_name", "connection.display_name_invalid"))
        if problems:
            raise ConnectionInvalid(problems)
        return cls(office_id, sender.strip().lower(), display_name.strip(), version)
