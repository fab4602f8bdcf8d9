"""Settings shared by every service, read from unprefixed environment variables.

Each service adds its own ``Settings(BaseSettings)`` with its prefix (``CLIENTS_``, ``UBL_``…) and
holds a ``PlatformSettings``. Secrets have no default: a service refuses to start without them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = Field(validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    mongodb_uri: str = Field(validation_alias="MONGODB_URI")
    # Development only: the HS256 key of local tokens. With PORTAL_JWT_JWKS_URL (production) it is
    # not needed, and HS256 tokens are refused (portal_servicekit.tokens).
    jwt_key: SecretStr = Field(default=SecretStr(""), validation_alias="PORTAL_JWT_KEY")
    jwt_jwks_url: str | None = Field(default=None, validation_alias="PORTAL_JWT_JWKS_URL")
    topic_prefix: str = Field(default="", validation_alias="PORTAL_TOPIC_PREFIX")

    @model_validator(mode="after")
    def _identity(self) -> PlatformSettings:
        if not self.jwt_jwks_url and len(self.jwt_key.get_secret_value()) < 32:
            raise ValueError(
                "set PORTAL_JWT_JWKS_URL (the identity provider's keys) or, in development, "
                "PORTAL_JWT_KEY (at least 32 characters)"
            )
        return self
