"""Every fake of the importer's tests, in one place: the clients service's HTTP API (a real
local HTTP server speaking the same API, so the real adapter is exercised), and workbooks
crafted the way no spreadsheet program writes them."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from portal_importer.domain.columns import CATALOGUE
from portal_importer.samples import client_row, fill_template

MAX_VALUES = 20_000  # the clients service refuses longer lists (422)


@dataclass
class FakeClientsService:
    """Availability (a status per value, ``available`` unless set in ``statuses``), groups,
    settings; records the availability calls and the tokens it was sent."""

    statuses: dict[str, str] = field(default_factory=dict)
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
    _lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0
    hold_s: float = 0.0  # how long each availability answer takes (to see calls overlap)

    def answer_availability(self, body: dict[str, Any]) -> tuple[int, Any]:
        if max(len(body["emails"]), len(body["vat_numbers"])) > MAX_VALUES:
            return 422, {"code": "validation"}
        self.availability_calls.append(body)
        return 200, {
            kind: {value: self.statuses.get(value, "available") for value in body[kind]}
            for kind in ("emails", "vat_numbers")
        }


@contextmanager
def clients_service_running() -> Iterator[FakeClientsService]:
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
                body = {"settings": {"enabled_transfer_methods": fake.methods}, "version": 1}
                return self._answer(200, body)
            return self._answer(404, {})

        def do_POST(self) -> None:
            fake.seen_tokens.append(self.headers.get("authorization", ""))
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if fake.down:
                return self._answer(503, {"code": "down"})
            if self.path != "/v1/clients/availability":
                return self._answer(404, {})
            with fake._lock:
                fake.in_flight += 1
                fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
            try:
                time.sleep(fake.hold_s)
                self._answer(*fake.answer_availability(body))
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def crafted_sheet(rows: int, *, addressed: bool = False) -> bytes:
    """The template with a header and ``rows`` two-cell rows below it; with ``addressed=False``
    no row or cell carries ``r`` (valid OOXML: each follows the previous one)."""
    template = fill_template([client_row(1)])
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    head, tail = sheet[: sheet.index("<sheetData>")], sheet[sheet.index("</sheetData>") :]

    def row(number: int, values: list[str]) -> str:
        cells = "".join(
            f'<c{_address(f"{chr(65 + i)}{number}", addressed)} t="inlineStr">'
            f"<is><t>{value}</t></is></c>"
            for i, value in enumerate(values)
        )
        return f"<row{_address(str(number), addressed)}>{cells}</row>"

    body = [row(1, [CATALOGUE[0].header("fr"), CATALOGUE[1].header("fr")])]
    body += [row(n + 1, [f"BE{n:010d}", f"Société {n}"]) for n in range(1, rows + 1)]
    xml = head + "<sheetData>" + "".join(body) + tail
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(template)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            replaced = xml.encode() if info.filename == "xl/worksheets/sheet1.xml" else None
            target.writestr(info.filename, replaced or source.read(info.filename))
    return out.getvalue()


def _address(ref: str, addressed: bool) -> str:
    return f' r="{ref}"' if addressed else ""
