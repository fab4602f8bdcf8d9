"""The invitations service's settings (prefix ``INVITATIONS_``), validated at start-up."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_invitations.domain.sending import RetryPolicy
from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVITATIONS_", extra="ignore")

    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    http_port: int = 8103
    database: str = "invitations"
    consumer_group: str = "portal-invitations.clients"

    # The SMTP relay. Defaults suit the local catcher (`make up`); production sets all of them.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None  # no default secret; never logged
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    smtp_validate_certs: bool = True
    smtp_pool_size: int = Field(default=4, ge=1, le=64)

    mail_from: str = "no-reply@portal.localhost"
    mail_from_name: str = "Portail comptable"
    message_id_domain: str | None = None  # default: the domain of mail_from
    accept_url: str = "http://localhost:8080/invitation?token={token}"

    token_ttl_days: float = Field(default=14, gt=0)
    office_hourly_limit: int = Field(default=500, ge=0)  # 0: no limit
    office_names: dict[str, str] = Field(default_factory=dict)  # defaults; the API overrides

    send_concurrency: int = Field(default=8, ge=1, le=256)
    send_batch: int = Field(default=200, ge=1)
    send_poll_interval_s: float = Field(default=1.0, gt=0)
    retry_base_s: float = Field(default=5.0, gt=0)
    retry_cap_s: float = Field(default=600.0, gt=0)
    retry_max_attempts: int = Field(default=60, ge=1)
    send_lease_s: float = Field(default=120.0, gt=0)

    accept_ip_limit: int = Field(default=30, ge=1)  # invalid links per client address and window
    accept_token_limit: int = Field(default=10, ge=1)  # wrong mobile numbers per link and window
    accept_window_s: float = Field(default=900.0, gt=0)
    # Addresses or networks of the gateway(s) in front of the API, whose X-Forwarded-For names
    # the client (JSON list). None by default: attempts count under the socket peer.
    trusted_gateways: list[str] = Field(default_factory=list)

    @field_validator("trusted_gateways")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

    @property
    def gateways(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_gateways)

    @field_validator("accept_url")
    @classmethod
    def _has_token(cls, value: str) -> str:
        if "{token}" not in value:
            raise ValueError("accept_url must contain {token}")
        return value

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(days=self.token_ttl_days)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            base=timedelta(seconds=self.retry_base_s),
            cap=timedelta(seconds=self.retry_cap_s),
            max_attempts=self.retry_max_attempts,
            lease=timedelta(seconds=self.send_lease_s),
        )

    @property
    def mail_domain(self) -> str:
        return self.message_id_domain or self.mail_from.rpartition("@")[2] or "portal.localhost"
