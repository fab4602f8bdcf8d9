"""Settings of the clients service (prefix CLIENTS_), validated at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_clients.adapters.vies import DEFAULT_ENDPOINT
from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLIENTS_", extra="ignore")

    http_port: int = 8101
    database: str = "clients"
    consumer_group: str = "clients"
    vies_endpoint: str = DEFAULT_ENDPOINT
    vies_timeout_s: float = Field(default=5.0, gt=0, le=60)
    vies_enabled: bool = True
    recheck_interval_s: float = Field(default=30.0, gt=0)
    relay_in_http: bool = False  # the worker relays; set for a single-process local run
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
