"""A local Clearfacts API for tests and `make up` (DELIVERY.md §2.4): ``POST /graphql`` as the
real one takes it, and refusing what it refuses.

- ``Authorization: Bearer`` a registered token of exactly 80 characters, else 401.
- ``multipart/form-data`` with the parts ``query``, ``variables`` (JSON text) and ``file`` (an
  upload), nothing else: the GraphQL multipart request spec (``operations``/``map``) is refused;
  ``uploadFile(vatnumber, filename, invoicetype)`` with ``invoicetype`` ``PURCHASE`` or
  ``SALE``, the VAT number (10 digits) of an administration the token may upload to, a PDF,
  JPEG or UBL file. Success: ``{"data": {"uploadFile": {"uuid", "amountOfPages"}}}``; every
  refusal is HTTP 200 with the GraphQL ``errors`` array (and ``data.uploadFile: null``).
- ``application/json`` queries: ``administrations { name companyNumber }``.
- Faults for tests: ``fail_next(message, …)`` answers the next uploads with those errors
  ("Internal server error" is Clearfacts' transient one); ``delay_s`` slows every answer; the
  most uploads one token had in flight at once is ``max_in_flight``. ``GET /_fake/uploads``;
  ``POST /_fake/faults {"fail_next": [...]}`` from another process.

Run: ``CLEARFACTS_FAKE_TOKEN=T python -m portal_delivery.entrypoints.clearfacts_fake --port 8027
--vat 0403170701 --root .data/clearfacts`` (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import hashlib
import json
import os
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from portal_delivery.entrypoints.fake_http import FakeServer, Request, Response, serve

TYPES = {"PURCHASE", "SALE"}


def _errors(*messages: str) -> Response:
    body = {"errors": [{"message": m} for m in messages], "data": {"uploadFile": None}}
    return Response.of(200, body)


def _kind(data: bytes) -> str | None:
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "xml" if (b"Invoice" in data[:4096] or b"CreditNote" in data[:4096]) else None
    return None


class ClearfactsFake:
    def __init__(
        self,
        *,
        tokens: dict[str, set[str]] | None = None,  # token → the VAT numbers it may upload to
        root: Path | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self.tokens = {t: set(v) for t, v in (tokens or {}).items()}
        self.root = root
        self.delay_s = delay_s
        self.uploads: list[dict[str, Any]] = []
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight = 0
        self._fail_next: list[str] = []
        self.port = 0

    def fail_next(self, *messages: str) -> None:
        self._fail_next += list(messages)

    async def handle(self, request: Request) -> Response:
        if request.raw_path == "/_fake/uploads":
            return Response.of(200, self.uploads)
        if request.raw_path == "/_fake/faults" and request.method == "POST":
            self.fail_next(*(request.json() or {}).get("fail_next", []))
            return Response(204)
        if request.raw_path != "/graphql" or request.method != "POST":
            return Response.of(404, {"errors": [{"message": "Not found"}]})
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if len(token) != 80 or token not in self.tokens:
            return Response.of(401, {"errors": [{"message": "Unauthorized"}]})
        digest = hashlib.sha256(token.encode()).hexdigest()[:12]
        self.in_flight[digest] += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight[digest])
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            return self._graphql(request, token, digest)
        finally:
            self.in_flight[digest] -= 1

    def _graphql(self, request: Request, token: str, digest: str) -> Response:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            query = str((request.json() or {}).get("query", ""))
            if "administrations" not in query:
                return _errors("Cannot query this field.")
            administrations = [
                {"name": f"Administration {v}", "companyNumber": v}
                for v in sorted(self.tokens[token])
            ]
            return Response.of(200, {"data": {"administrations": administrations}})
        if not content_type.startswith("multipart/form-data"):
            return _errors("Expected multipart/form-data with query, variables and file.")
        parts = self._parts(content_type, request.body)
        if set(parts) != {"query", "variables", "file"}:
            return _errors(
                f"Expected the form fields query, variables and file; got {sorted(parts)}."
            )
        query = parts["query"][1].decode(errors="replace")
        variables_text = parts["variables"][1]
        file_name, data = parts["file"]
        if file_name is None:
            return _errors("The file part carries no file.")
        try:
            variables = json.loads(variables_text)
        except ValueError:
            return _errors("variables is not valid JSON.")
        if "uploadFile(" not in query:
            return _errors("Only uploadFile is served here.")
        if self._fail_next:
            return _errors(self._fail_next.pop(0))
        vat, kind = str(variables.get("vatNumber", "")), str(variables.get("invoiceType", ""))
        if kind not in TYPES:
            return _errors(
                f'Variable "$invoiceType" got invalid value "{kind}"; expected one of PURCHASE, SALE.'
            )
        if not (vat.isdigit() and len(vat) == 10) or vat not in self.tokens[token]:
            return _errors(
                f"Administration {vat} was not found or is not accessible with this token."
            )
        if not str(variables.get("fileName", "")).strip():
            return _errors("fileName is required.")
        if _kind(data) is None:
            return _errors("Unsupported file type: send a PDF, a JPEG or a UBL invoice.")
        upload = {
            "uuid": str(uuid.uuid4()).upper(),
            "token": digest,
            "vat": vat,
            "type": kind,
            "fileName": variables["fileName"],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        self.uploads.append(upload)
        if self.root is not None:
            target = self.root / vat / f"{upload['uuid']}-{variables['fileName']}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return Response.of(
            200, {"data": {"uploadFile": {"uuid": upload["uuid"], "amountOfPages": 1}}}
        )

    @staticmethod
    def _parts(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        parts: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts() if message.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                parts[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
        return parts


async def start(fake: ClearfactsFake, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    server = await serve(fake.handle, host, port)
    fake.port = server.port
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8027)
    parser.add_argument("--root", type=Path, default=None, help="also write the uploads here")
    parser.add_argument("--vat", action="append", default=[], help="an administration (10 digits)")
    args = parser.parse_args(argv)
    token = os.environ.get("CLEARFACTS_FAKE_TOKEN", "")  # not on the command line
    if len(token) != 80:
        parser.error("set CLEARFACTS_FAKE_TOKEN (80 characters)")
    fake = ClearfactsFake(tokens={token: set(args.vat)}, root=args.root)

    async def run() -> None:
        server = await start(fake, port=args.port)
        print(json.dumps({"clearfacts_fake": f"http://127.0.0.1:{fake.port}/graphql"}), flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(run())


if __name__ == "__main__":
    main()
