"""Importer test fixtures: a local fake of the clients service's HTTP API, the app on the real
FerretDB, and bearer tokens for two offices."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.values import Language
from portal_importer.adapters.mongo import MongoImports
from portal_importer.bootstrap import Bootstrapped, bootstrap
from portal_importer.config import Settings
from portal_importer.entrypoints.http import create_app
from portal_servicekit.settings import PlatformSettings

JWT_KEY = "importer-tests-key-0123456789-abcdefghij"


@dataclass
class FakeClientsService:
    """Speaks the clients service's API: availability (one batch call), groups, settings."""

    emails_taken: set[str] = field(default_factory=set)
    vat_numbers_taken: set[str] = field(default_factory=set)
    groups: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"group_id": "everyone", "name": "Everyone"},
            {"group_id": "g-liege", "name": "Liège"},
        ]
    )
    methods: list[str] = field(default_factory=lambda: ["manual", "email", "sftp"])
    availability_calls: list[dict[str, Any]] = field(default_factory=list)
    seen_tokens: list[str] = field(default_factory=list)
    down: bool = False
    url: str = ""


@pytest.fixture
def clients_service() -> Iterator[FakeClientsService]:
    fake = FakeClientsService()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            fake.seen_tokens.append(self.headers.get("authorization", ""))
            if fake.down:
                return self._answer(503, {"code": "down"})
            if self.path == "/v1/groups":
                return self._answer(200, [{**g, "staff": [], "version": 1} for g in fake.groups])
            if self.path == "/v1/settings":
                return self._answer(
                    200, {"settings": {"enabled_transfer_methods": fake.methods}, "version": 1}
                )
            return self._answer(404, {})

        def do_POST(self) -> None:
            fake.seen_tokens.append(self.headers.get("authorization", ""))
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if fake.down:
                return self._answer(503, {"code": "down"})
            if self.path != "/v1/clients/availability":
                return self._answer(404, {})
            fake.availability_calls.append(body)
            return self._answer(
                200,
                {
                    "emails_taken": sorted(set(body["emails"]) & fake.emails_taken),
                    "vat_numbers_taken": sorted(set(body["vat_numbers"]) & fake.vat_numbers_taken),
                },
            )

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def importer_settings(
    clients_service: FakeClientsService, mongodb_uri: str, kafka_bootstrap: str, topics: Any
) -> Settings:
    platform = PlatformSettings.model_validate(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "MONGODB_URI": mongodb_uri,
            "PORTAL_JWT_KEY": JWT_KEY,
            "PORTAL_TOPIC_PREFIX": topics.prefix,
        }
    )
    return Settings(platform=platform, clients_url=clients_service.url, chunk_rows=200)


@pytest.fixture
async def wired(importer_settings: Settings, mongo_db: Any) -> Bootstrapped:
    bootstrapped = bootstrap(importer_settings, database=mongo_db)
    assert isinstance(bootstrapped.repository, MongoImports)
    await bootstrapped.repository.ensure_indexes()
    return bootstrapped


@pytest.fixture
async def api(importer_settings: Settings, wired: Bootstrapped) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(importer_settings, wired)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://importer", timeout=60
    ) as client:
        yield client


@pytest.fixture
def auth() -> Callable[..., dict[str, str]]:
    def headers(
        office: str = "office-a",
        *,
        language: str = "fr",
        user: str = "u-1",
        role: Role = Role.ADMIN,
    ) -> dict[str, str]:
        caller = Caller(office_id=office, user_id=user, role=role, language=Language(language))
        return {"authorization": f"Bearer {issue_token(caller, JWT_KEY)}"}

    return headers
