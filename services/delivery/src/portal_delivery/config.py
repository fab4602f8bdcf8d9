"""Settings of the delivery service (prefix DELIVERY_), validated at start-up.

Secrets have no default: ``DELIVERY_SECRETS_KEY`` (32 bytes, URL-safe base64) seals the
connections' secrets at rest; ``DELIVERY_SMTP_PASSWORD`` is the relay's, if it wants one.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    http_port: int = 8105
    database: str = "delivery"
    consumer_group: str = "delivery"  # planner: "<group>.planner", a channel: "<group>.<channel>"
    # The platform's blob store the ubl service writes (claim check of DocumentReady).
    blob_database: str = "portal_ubl"
    blob_bucket: str = "blobs"
    secrets_key: SecretStr = Field(min_length=43)
    secrets_previous_keys: SecretStr = SecretStr("")  # comma-separated, for a key rotation
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: str = Field(default="none", pattern="^(none|starttls|tls)$")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    smtp_connections: int = Field(default=8, ge=1, le=64)
    mail_from: str = "documents@accountant-portal.be"
    message_id_domain: str = "accountant-portal.be"
    sftp_sessions_per_server: int = Field(default=2, ge=1, le=16)
    sftp_timeout_s: float = Field(default=30.0, gt=0)
    # OneDrive / SharePoint (Microsoft Graph): the URLs are configurable so tests and `make up`
    # reach the local fake; the bearer token only ever goes to the host of graph_url.
    graph_url: str = "https://graph.microsoft.com/v1.0"
    graph_login_url: str = "https://login.microsoftonline.com"
    graph_fragment_units: int = Field(default=16, ge=1, le=180)  # × 320 KiB (16: 5 MiB)
    graph_uploads_per_tenant: int = Field(default=8, ge=1, le=64)
    graph_timeout_s: float = Field(default=60.0, gt=0)
    clearfacts_url: str = "https://api.clearfacts.be/graphql"
    clearfacts_uploads_per_token: int = Field(default=2, ge=1, le=2)
    clearfacts_timeout_s: float = Field(default=60.0, gt=0)
    agent_lease_s: float = Field(default=300.0, ge=5)  # an agent's hold on an item it fetched
    scheduler_interval_s: float = Field(default=0.5, gt=0)
    lease_s: float = Field(default=120.0, ge=5)
    give_up_hours: float = Field(default=24.0, gt=0)
    # The first retry's back-off and a destination's first pause (DELIVERY.md §8); shorter only
    # in benchmarks and fault runs that watch a backlog drain within minutes.
    retry_base_s: float = Field(default=60.0, gt=0)
    breaker_open_s: float = Field(default=300.0, gt=0)
    requests_in_flight: int = Field(default=16, ge=1, le=256)  # per channel worker
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @field_validator("secrets_key")
    @classmethod
    def _a_32_byte_key(cls, value: SecretStr) -> SecretStr:
        from portal_delivery.adapters.secrets import key_from_text

        key_from_text(value.get_secret_value())  # refuses to start with a key that cannot seal
        return value
