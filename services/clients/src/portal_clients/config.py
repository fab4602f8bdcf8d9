"""Settings of the clients service (prefix CLIENTS_), validated at start-up."""

from __future__ import annotations

from typing import Literal

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
    # Which register checks VAT numbers: "kbo+vies" (Belgian numbers in the loaded KBO extract,
    # VIES for the rest and as a second opinion), "vies" (VIES only), "kbo" (Belgian numbers
    # only; others stay pending), "off" (every check pending).
    vat_register: Literal["kbo+vies", "vies", "kbo", "off"] = "kbo+vies"
    vies_enabled: bool = True  # the older switch: false means vat_register "off"
    recheck_interval_s: float = Field(default=30.0, gt=0)
    release_interval_s: float = Field(default=300.0, gt=0)  # archived clients' holds
    relay_poll_s: float = Field(default=0.5, gt=0)
    # Rows created in one transaction; a bigger import is stored in batches of this size (see
    # adapters/mongo_imports.py). 2,500 fit a 512 MB storage cache with room to spare.
    import_rows_per_transaction: int = Field(default=2_500, ge=1)
    # E-mails + VAT numbers one office may have checked per hour (the importer pages by 20,000).
    availability_per_hour: int = Field(default=1_000_000, ge=1)
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
