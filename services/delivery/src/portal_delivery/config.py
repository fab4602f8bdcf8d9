"""Settings of the delivery service (prefix DELIVERY_), validated at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DELIVERY_", extra="ignore")

    http_port: int = 8105
    database: str = "delivery"
    consumer_group: str = "delivery"
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
