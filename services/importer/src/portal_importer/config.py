"""The importer's settings, from IMPORTER_* variables plus the platform's shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_servicekit.settings import PlatformSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMPORTER_", extra="ignore")

    platform: PlatformSettings = Field(default_factory=lambda: PlatformSettings())
    clients_url: str = "http://127.0.0.1:8101"
    clients_timeout_s: float = 60.0  # one batch call checks up to 20,000 values on FerretDB
    database: str = "importer"
    http_port: int = 8102
    max_upload_bytes: int = 20 * 1024 * 1024
    chunk_rows: int = 1000  # rows per stored document (FerretDB/MongoDB cap documents at 16 MB)
    validation_workers: int = 0  # >1: check rows in a process pool
    publish_poll_s: float = 0.1  # how often the worker looks for just-confirmed imports
    publish_sweep_s: float = 30.0  # how often it scans every import for one left unpublished
