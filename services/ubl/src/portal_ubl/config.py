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

    http_port: int = Field(default=8104, ge=1, le=65535)
    database: str = "portal_ubl"
    blob_bucket: str = "blobs"
    consumer_group: str = "portal-ubl.client-settings"
    relay_poll_s: float = Field(default=0.5, gt=0)
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
