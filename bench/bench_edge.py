"""The HTTP edge (servicekit's EdgeGuard): how much of a body nobody should read a service reads.

    uv run python bench/bench_edge.py

Needs MONGODB_URI and KAFKA_BOOTSTRAP_SERVERS (`make infra-up`, or the shared servers' env.sh).
Each case starts the service's app under uvicorn in a child process, twice: as it ships (behind
EdgeGuard) and, as the baseline of the same run, the same app with EdgeGuard taken out of its
middleware (what every service did before issue 16). A raw socket streams the body while it
reads the answer, so an early answer is seen as soon as it is sent. Printed per run: the status,
the time to the answer, the bytes sent until then (they include what the sockets buffer, a few
MB), and the server's RSS before, at its peak (sampled every 10 ms) and 1 s after the answer.

  clients   POST /v1/clients, 400 MB of JSON, valid token / no token
  ubl       POST /v1/documents, 200 MB multipart upload, no token
  importer  POST /v1/imports, 190 MB chunked multipart upload, valid token
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass

import psutil

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.values import Language
from portal_infra.process import free_port, stop_process

MiB = 1024 * 1024
JWT_KEY = "bench-edge-signing-key-0123456789abcdefgh"
BOUNDARY = "bench-edge-boundary"


def serve(service: str, edge: bool, port: int) -> None:
    """The child: one app under uvicorn."""
    import uvicorn

    from portal_servicekit.edge import EdgeGuard

    if service == "ubl":
        from portal_ubl.entrypoints.http import create_app
        from portal_ubl.samples import fake_dependencies

        app = create_app(deps=fake_dependencies(), jwt_key=JWT_KEY)
    elif service == "clients":
        from portal_clients.entrypoints.http import create_app as create_clients

        app = create_clients()
    else:
        from portal_importer.entrypoints.http import create_app as create_importer

        app = create_importer()
    if not edge:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not EdgeGuard]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@dataclass
class Outcome:
    status: str
    seconds: float
    sent: int
    rss_before: int
    rss_peak: int
    rss_after: int


def _bearer() -> str:
    caller = Caller(office_id="bench", user_id="u", role=Role.ADMIN, language=Language.EN)
    return f"Bearer {issue_token(caller, JWT_KEY)}"


def _request(path: str, content_type: str, token: bool, length: int | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: bench", f"Content-Type: {content_type}"]
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    if token:
        lines.append(f"Authorization: {_bearer()}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _stream(port: int, head: bytes, body: list[bytes], chunked: bool) -> tuple[str, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    writer.write(head)

    async def write() -> None:
        nonlocal sent
        for piece in body:
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            await writer.drain()
            sent += len(piece)
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    writing = asyncio.create_task(write())
    status = (await reader.readline()).decode().strip()
    writing.cancel()
    writer.transport.abort()
    return status, sent


def _body(total: int, prefix: bytes = b"", suffix: bytes = b"") -> list[bytes]:
    piece = b"x" * MiB
    return [prefix] + [piece] * (total // MiB) + [suffix]


def run_case(
    service: str,
    edge: bool,
    path: str,
    content_type: str,
    token: bool,
    body: list[bytes],
    chunked: bool,
    env: dict[str, str],
) -> Outcome:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", service, "--port", str(port)]
        + ([] if edge else ["--no-edge"]),
        env=env,
    )
    try:
        server = psutil.Process(child.pid)
        _wait_ready(port, child)
        before = server.memory_info().rss
        peak = [before]
        running = True

        def sample() -> None:
            while running:
                try:
                    peak[0] = max(peak[0], server.memory_info().rss)
                except psutil.Error:
                    return
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        length = None if chunked else sum(len(p) for p in body)
        head = _request(path, content_type, token, length)
        started = time.perf_counter()
        status, sent = asyncio.run(_stream(port, head, body, chunked))
        seconds = time.perf_counter() - started
        time.sleep(1.0)
        running = False
        sampler.join()
        return Outcome(status, seconds, sent, before, peak[0], server.memory_info().rss)
    finally:
        stop_process(child, timeout=10)


def _wait_ready(port: int, child: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"the {port} server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("server not ready in 60 s")


def _multipart(total: int, name: str, extra: dict[str, str]) -> tuple[bytes, bytes]:
    fields = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in extra.items()
    )
    prefix = (
        fields + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return prefix, f"\r\n--{BOUNDARY}--\r\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int)
    parser.add_argument("--no-edge", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, not args.no_edge, args.port)
        return
    run = f"bench_edge_{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "PORTAL_JWT_KEY": JWT_KEY,
        "PORTAL_TOPIC_PREFIX": f"{run}.",
        "CLIENTS_VIES_ENABLED": "false",
        "CLIENTS_DATABASE": f"{run}_clients",
        "IMPORTER_DATABASE": f"{run}_importer",
    }
    for key in ("MONGODB_URI", "KAFKA_BOOTSTRAP_SERVERS"):
        if key not in env:
            raise SystemExit(f"{key} is not set (make infra-up, or source the servers' env.sh)")
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    ubl_prefix, ubl_suffix = _multipart(
        200 * MiB, "pdf", {"kind": "sales_invoice", "client_id": "c"}
    )
    imp_prefix, imp_suffix = _multipart(190 * MiB, "file", {})
    cases = [
        (
            "clients",
            "/v1/clients",
            "application/json",
            True,
            _body(400 * MiB, b'{"a": "'),
            False,
            "400 MB JSON, valid token",
        ),
        (
            "clients",
            "/v1/clients",
            "application/json",
            False,
            _body(400 * MiB, b'{"a": "'),
            True,
            "400 MB JSON chunked, no token",
        ),
        (
            "ubl",
            "/v1/documents",
            multipart,
            False,
            _body(200 * MiB, ubl_prefix, ubl_suffix),
            False,
            "200 MB multipart, no token",
        ),
        (
            "importer",
            "/v1/imports",
            multipart,
            True,
            _body(190 * MiB, imp_prefix, imp_suffix),
            True,
            "190 MB chunked multipart, valid token",
        ),
    ]
    print(f"{'case':<48} {'edge':<9} {'answer':<28} {'time':>7} {'sent':>8}  server RSS")
    for service, path, ctype, token, body, chunked, label in cases:
        for edge in (False, True):
            o = run_case(service, edge, path, ctype, token, body, chunked, env)
            print(
                f"{service + ' ' + label:<48} {'EdgeGuard' if edge else 'without':<9} "
                f"{o.status[9:][:28]:<28} {o.seconds:>6.2f}s {o.sent / MiB:>6.0f}MB  "
                f"{o.rss_before / MiB:.0f} → peak {o.rss_peak / MiB:.0f} → {o.rss_after / MiB:.0f} MB"
            )


if __name__ == "__main__":
    main()
