"""The importer's settings, from IMPORTER_* variables plus the platform's shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMPORTER_", extra="ignore")

    platform: PlatformSettings = Field(default_factory=lambda: PlatformSettings())
    clients_url: str = "http://127.0.0.1:8101"
    clients_timeout_s: float = 30.0  # one availability call (at most 20,000 values)
    availability_page_values: int = 20_000  # the clients service's cap per call
    availability_in_flight: int = 3
    database: str = "importer"
    consumer_group: str = "importer"
    http_port: int = 8102
    max_upload_bytes: int = 20 * 1024 * 1024
    validation_workers: int = 0  # >1: check rows in a process pool
    # Events per confirmation transaction; a bigger import's further chunks follow, one
    # transaction each (SecantusDB refuses a transaction over ~7% of its cache).
    confirm_transaction_bytes: int = 16 * 1024 * 1024
    resume_after_s: float = 60.0  # an unfinished confirmation is finished by a worker after it
    resume_poll_s: float = 5.0  # how often a worker looks for one
