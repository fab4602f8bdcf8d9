"""Settings shared by every service, read from unprefixed environment variables.

Each service adds its own ``Settings(BaseSettings)`` with its prefix (``CLIENTS_``, ``UBL_``…) and
holds a ``PlatformSettings``. Secrets have no default: a service refuses to start without them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = Field(validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    mongodb_uri: str = Field(validation_alias="MONGODB_URI")
    jwt_key: SecretStr = Field(validation_alias="PORTAL_JWT_KEY", min_length=32)
    topic_prefix: str = Field(default="", validation_alias="PORTAL_TOPIC_PREFIX")
