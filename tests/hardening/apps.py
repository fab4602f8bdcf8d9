"""The one place the hardening tests build each service's app with the ``create_app`` of its
``entrypoints/http.py``: from the environment, as ``make up`` runs it, on the real Kafka and
MongoDB (one database per service), lifespan entered. Only this module knows how an app is made.

Every service's ``create_app(service: Service | None = None)`` bootstraps from the environment
when given nothing, as uvicorn's ``--factory`` calls it.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.values import Language

SERVICES = ("clients", "importer", "invitations", "ubl", "delivery")
JWT_KEY = "hardening-tests-signing-key-0123456789abcdef"


def bearer(office: str = "office-h", *, language: str = "en", key: str = JWT_KEY) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="u-h", role=Role.ADMIN, language=Language(language))
    return {"authorization": f"Bearer {issue_token(caller, key)}"}


def environment(kafka: str, mongodb: str, prefix: str) -> Mapping[str, str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "MONGODB_URI": mongodb,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": f"{prefix}.",
        "CLIENTS_VIES_ENABLED": "false",
        "INVITATIONS_SMTP_PORT": "1",  # never reached: no test here sends an invitation
        "DELIVERY_SECRETS_KEY": "ckQGMWLbs9fxkiF69JOgp9t8nIxH89sDK3nYErLb1eY",  # a test key, not a secret
    }
    for service in SERVICES:
        env[f"{service.upper()}_DATABASE"] = f"{prefix}_{service}"
        env[f"{service.upper()}_CONSUMER_GROUP"] = f"{prefix}-{service}"
    return env


def _create(name: str) -> FastAPI:
    try:
        module = importlib.import_module(f"portal_{name}.entrypoints.http")
    except ImportError as exc:
        pytest.skip(f"portal_{name} does not import on this branch: {exc}")
    app: FastAPI = module.create_app()
    return app


@asynccontextmanager
async def service_app(name: str, env: Mapping[str, str]) -> AsyncIterator[FastAPI]:
    """The service's app, started (lifespan entered) while the environment holds ``env``."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        app = _create(name)
        async with app.router.lifespan_context(app):
            if name == "ubl":  # ubl takes documents only for clients it heard of (ClientCreated)
                from portal_ubl.domain.document import ClientSettings

                await app.state.deps.clients.save(ClientSettings("office-h", "c1", 1))
            yield app
