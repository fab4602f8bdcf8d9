"""Settings of the portal's pages (``PORTAL_WEB_*``; the token settings are the platform's
unprefixed ``PORTAL_JWT_*``, read by :mod:`portal_servicekit.tokens`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_WEB_", extra="ignore")

    # The services' own addresses (not the gateway's): the portal calls them with the user's token.
    clients_url: str = "http://127.0.0.1:8101"
    importer_url: str = "http://127.0.0.1:8102"
    invitations_url: str = "http://127.0.0.1:8103"
    ubl_url: str = "http://127.0.0.1:8104"
    delivery_url: str = "http://127.0.0.1:8105"
    # Where a person without a session signs in (make up: the local sign-in behind the gateway).
    signin_url: str = "/auth/signin"
    signout_url: str = "/auth/signout"
    cookie: str = "portal_token"
    timeout_s: float = Field(default=30.0, gt=0)
    page_size: int = Field(default=25, ge=1, le=200)
    # The development HS256 key, when no JWKS URL is set (tests); never in production.
    jwt_key: str = Field(default="", validation_alias="PORTAL_JWT_KEY")
