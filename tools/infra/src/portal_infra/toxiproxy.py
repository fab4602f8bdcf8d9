"""Toxiproxy (Shopify's TCP proxy for fault injection), built from the Go module proxy into
``.cache/`` and driven through its HTTP API: the fault tests put it between a worker and the
broker (or the database, or a channel's server) to cut, slow or reset the connection.

For Kafka the proxy needs a listener whose advertised address is the proxy's, or clients would
reconnect to the broker directly after the first metadata answer (INFRA.md): see
:func:`portal_infra.kafka.new_node`'s ``extra_listener``.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_infra.process import (
    cache_dir,
    free_port,
    require_tool,
    spawn,
    stop_process,
    wait_until_answers,
)

MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server"
VERSION = "v2.12.0"


def server_binary() -> Path:
    root = cache_dir() / "toxiproxy" / VERSION
    binary = root / "server"
    if binary.exists():
        return binary
    go = require_tool("go")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [go, "install", f"{MODULE}@{VERSION}"],
        check=True,
        env={**os.environ, "GOBIN": str(root), "CGO_ENABLED": "0"},
    )
    return binary


@dataclass
class Toxiproxy:
    home: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = spawn(
            [str(server_binary()), "-host", "127.0.0.1", "-port", str(self.port)],
            self.home / "toxiproxy.log",
        )
        wait_until_answers(
            "toxiproxy",
            self.process,
            self._answers,
            where=self.api,
            log=self.home / "toxiproxy.log",
            timeout=20,
            pause=0.1,
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def _answers(self) -> bool:
        try:
            self._call("GET", "/version")
            return True
        except OSError:
            return False

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own proxy's API on 127.0.0.1
            self.api + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - 127.0.0.1 only
            text = answer.read()
        return json.loads(text) if text else None

    def proxy(self, name: str, upstream: str, listen_port: int | None = None) -> int:
        """A proxy ``name`` listening on 127.0.0.1 (a free port unless given) to ``upstream``."""
        port = listen_port or free_port()
        self._call(
            "POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{port}", "upstream": upstream}
        )
        return port

    def cut(self, name: str) -> None:
        """A network partition: the proxy stops accepting and drops its connections."""
        self._call("POST", f"/proxies/{name}", {"enabled": False})

    def heal(self, name: str) -> None:
        self._call("POST", f"/proxies/{name}", {"enabled": True})

    def add_latency(self, name: str, ms: int) -> None:
        self._call(
            "POST",
            f"/proxies/{name}/toxics",
            {"name": f"{name}-latency", "type": "latency", "attributes": {"latency": ms}},
        )


def start(home: Path) -> Toxiproxy:
    home.mkdir(parents=True, exist_ok=True)
    proxy = Toxiproxy(home, free_port())
    proxy.start()
    return proxy
