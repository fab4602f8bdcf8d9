"""Settings of the UBL service: ``UBL_`` variables, plus the platform's (Kafka, Mongo, JWT key).

``PEPPOL_RULES_DIR`` (unprefixed, as users of the OpenPeppol artefacts know it) is read by
:mod:`portal_ubl.adapters.validation` where it is used.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UBL_", extra="ignore")

    http_host: str = "0.0.0.0"  # noqa: S104 - inside a container, behind the gateway
    http_port: int = Field(default=8104, ge=1, le=65535)
    database: str = "portal_ubl"
    blob_bucket: str = "blobs"
    relay_interval_s: float = Field(default=1.0, gt=0)

    def platform(self) -> PlatformSettings:
        return PlatformSettings()
