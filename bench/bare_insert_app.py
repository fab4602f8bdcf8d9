"""The baseline of bench_clients.py's adds: a bare FastAPI route that verifies the same JWT as the
clients API and stores the posted form with one ``insert_one`` (same server, same run).

    uvicorn --factory --app-dir bench bare_insert_app:create_app   (MONGODB_URI, PORTAL_JWT_KEY,
                                                                   BARE_DATABASE)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from pymongo import AsyncMongoClient

from portal_contracts.identity import verify_token


def create_app() -> FastAPI:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URI"])
    clients = mongo[os.environ["BARE_DATABASE"]]["bare_clients"]
    key = os.environ["PORTAL_JWT_KEY"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await clients.create_index("data.user.email", unique=True)
        yield
        await mongo.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/clients", status_code=201)
    async def add(form: dict[str, Any], request: Request) -> dict[str, str]:
        caller = verify_token(request.headers["authorization"].removeprefix("Bearer "), key)
        client_id = uuid.uuid4().hex
        await clients.insert_one({"_id": client_id, "office_id": caller.office_id, "data": form})
        return {"client_id": client_id}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
