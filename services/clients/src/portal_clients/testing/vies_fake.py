"""A local stand-in for the EU VIES REST API (``POST /check-vat-number``) on 127.0.0.1.

Each VAT number answers the way it is told to: ``valid`` (the default), ``invalid``, ``slow``
(answers after ``slow_s`` seconds, to exercise the client's timeout), ``unavailable`` (HTTP 503)
``ms_unavailable`` (HTTP 200 with VIES's ``MS_UNAVAILABLE`` error wrapper), ``not_found`` (HTTP
404, as when the endpoint moved) or ``malformed`` (HTTP 200 with a body of another shape).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

Mode = Literal[
    "valid", "invalid", "slow", "unavailable", "ms_unavailable", "not_found", "malformed"
]


class FakeVies:
    def __init__(self, slow_s: float = 3.0) -> None:
        self.modes: dict[str, Mode] = {}
        self.default: Mode = "valid"
        self.slow_s = slow_s
        self.requests: list[dict[str, Any]] = []
        self.port = 0
        self.app = self._build()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, vat_number: str, mode: Mode) -> None:
        self.modes[vat_number] = mode

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/check-vat-number")
        async def check(body: dict[str, Any]) -> JSONResponse:
            self.requests.append(body)
            vat = f"{body.get('countryCode', '')}{body.get('vatNumber', '')}"
            mode = self.modes.get(vat, self.default)
            if mode == "slow":
                await asyncio.sleep(self.slow_s)
                mode = "valid"
            if mode == "unavailable":
                return JSONResponse({"message": "Service unavailable"}, status_code=503)
            if mode == "not_found":
                return JSONResponse({"message": "Not Found"}, status_code=404)
            if mode == "malformed":
                return JSONResponse(["valid", True])
            if mode == "ms_unavailable":
                return JSONResponse(
                    {"actionSucceed": False, "errorWrappers": [{"error": "MS_UNAVAILABLE"}]}
                )
            valid = mode == "valid"
            return JSONResponse(
                {
                    "countryCode": body.get("countryCode"),
                    "vatNumber": body.get("vatNumber"),
                    "valid": valid,
                    "name": "FAKE COMPANY NV" if valid else "---",
                    "address": "Rue de la Loi 16, 1000 Bruxelles" if valid else "---",
                }
            )

        return app

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeVies]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        try:
            yield self
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, timeout=10)
