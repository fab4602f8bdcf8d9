"""`make up` / `make down`: the whole system on this machine, without Docker.

Starts (or reuses) the local Kafka and MongoDB-wire server (SecantusDB), then every service that
exists — its HTTP API on a fixed port and its worker — the portal's pages, the local sign-in
(development identity provider: its JWKS is what every service verifies tokens against), the
gateway (nginx, :mod:`portal_infra.gateway`) in front of all of them on one port, and the SMTP
catcher that stores outgoing mail under `.data/mail/`. It prints one URL, the gateway's.
In the foreground Ctrl-C stops everything it started; with `--detach` it returns and `make down`
stops the run by the pids it recorded.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_infra import dev_identity, gateway, local, peppol
from portal_infra.process import data_dir, pid_alive, project_root, spawn, stop_pid, stop_process


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    worker_roles: tuple[str, ...] = ()  # one process per role (delivery: planner, each channel…)

    @property
    def package(self) -> str:
        return f"portal_{self.name}"

    @property
    def port_env(self) -> str:
        return f"{self.name.upper()}_HTTP_PORT"


SERVICES = (
    ServiceSpec("clients", 8101),
    ServiceSpec("importer", 8102),
    ServiceSpec("invitations", 8103),
    ServiceSpec("ubl", 8104),
    ServiceSpec(
        "delivery", 8105, ("planner", "scheduler", "email", "sftp", "onedrive", "clearfacts")
    ),
)
SMTP_CATCHER_PORT = 8025
SFTP_SERVER_PORT = 8022
GRAPH_FAKE_PORT = 8026  # a local Microsoft Graph (portal_delivery.entrypoints.graph_fake)
CLEARFACTS_FAKE_PORT = 8027  # a local Clearfacts API (portal_delivery.entrypoints.clearfacts_fake)
SFTP_USER, SFTP_PASSWORD = "portal", "portal-dev-only"  # the local server's, not a secret
DEV_OFFICE = "o1"  # the office the local connections are made for (make token OFFICE=o1)
# The local fakes' tenant, app and drive (any GUIDs do); their secrets are made once per .data/.
DEV_TENANT = "00000000-0000-4000-8000-00000000a001"
DEV_CLIENT_ID = "00000000-0000-4000-8000-00000000c001"
DEV_DRIVE = "b!local-drive"
DEV_VAT = "0403170701"  # the administration the local Clearfacts knows


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _state_file() -> Path:
    return data_dir() / "stack" / "processes.json"


def _dev_secrets_key() -> str:
    """The key sealing the delivery secrets of `make up`, made once per `.data/` (development
    only: production reads DELIVERY_SECRETS_KEY from its secret store)."""
    path = data_dir() / "stack" / "delivery-secrets-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))
        path.chmod(0o600)
    return path.read_text().strip()


def _dev_secret(name: str, make: Callable[[], str]) -> str:
    """A development secret of the local fakes, made once per `.data/` (0600)."""
    path = data_dir() / "stack" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _port(name: str) -> int:
    return int(os.environ.get(f"{name.upper()}_HTTP_PORT", gateway.LOCAL_PORTS[name]))


def gateway_port() -> int:
    return int(os.environ.get("GATEWAY_HTTP_PORT", gateway.GATEWAY_PORT))


def _local(name: str) -> str:
    return f"http://127.0.0.1:{_port(name)}"


def _environment(urls: dict[str, str]) -> dict[str, str]:
    mail_port = os.environ.get("SMTP_CATCHER_PORT", str(SMTP_CATCHER_PORT))
    graph = f"http://127.0.0.1:{os.environ.get('GRAPH_FAKE_PORT', GRAPH_FAKE_PORT)}"
    clearfacts = f"http://127.0.0.1:{os.environ.get('CLEARFACTS_FAKE_PORT', CLEARFACTS_FAKE_PORT)}"
    public = f"http://127.0.0.1:{gateway_port()}"
    defaults = {
        # Identity as in production: tokens verified against the (local) provider's JWKS; a staff
        # member's groups read from the clients service's records.
        "PORTAL_JWT_JWKS_URL": f"{_local('signin')}/auth/jwks.json",
        "PORTAL_STAFF_GROUPS_URL": _local("clients"),
        "DEV_SIGNIN_CLIENTS_URL": _local("clients"),
        "PORTAL_WEB_CLIENTS_URL": _local("clients"),
        "PORTAL_WEB_IMPORTER_URL": _local("importer"),
        "PORTAL_WEB_INVITATIONS_URL": _local("invitations"),
        "PORTAL_WEB_UBL_URL": _local("ubl"),
        "PORTAL_WEB_DELIVERY_URL": _local("delivery"),
        "INVITATIONS_ACCEPT_URL": f"{public}/invitation?token={{token}}",
        "INVITATIONS_TRUSTED_GATEWAYS": '["127.0.0.1/32"]',
        "INVITATIONS_SMTP_HOST": "127.0.0.1",
        "INVITATIONS_SMTP_PORT": mail_port,
        "DELIVERY_SMTP_HOST": "127.0.0.1",
        "DELIVERY_SMTP_PORT": mail_port,
        "DELIVERY_MAIL_FROM": "documents@accountant-portal.local",
        "DELIVERY_SECRETS_KEY": _dev_secrets_key(),
        "DELIVERY_GRAPH_URL": f"{graph}/v1.0",
        "DELIVERY_GRAPH_LOGIN_URL": graph,
        "DELIVERY_CLEARFACTS_URL": f"{clearfacts}/graphql",
        # What the local fakes accept (and the seeded connections hold, sealed).
        "GRAPH_FAKE_CLIENT_SECRET": _dev_secret(
            "graph-client-secret", lambda: secrets.token_urlsafe(24)
        ),
        "CLEARFACTS_FAKE_TOKEN": _dev_secret("clearfacts-token", lambda: secrets.token_hex(40)),
        "IMPORTER_CLIENTS_URL": _local("clients"),
        "PEPPOL_RULES_DIR": str(peppol.rules_dir()),
    }
    env = {**defaults, **os.environ, **urls}
    env.pop("PORTAL_JWT_KEY", None)  # refused anyway once the JWKS URL is set
    return env


def _uvicorn(factory: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def _gateway_command() -> list[str] | None:
    """nginx with the generated configuration, in the foreground, its files under `.data/`."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        return None
    home = data_dir() / "gateway"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    hosts = {name: f"127.0.0.1:{_port(name)}" for name in gateway.LOCAL_PORTS}
    conf = gateway.nginx_conf(
        hosts,
        listen=f"127.0.0.1:{gateway_port()}",
        api_docs=project_root() / "docs" / "api",
        data=home,
    )
    (home / "nginx.conf").write_text(conf)
    return [nginx, "-p", str(home), "-c", str(home / "nginx.conf")]


def _commands() -> list[tuple[str, list[str], int | None]]:
    """(name, command, http port) of every process to run, for the services that exist."""
    commands: list[tuple[str, list[str], int | None]] = []
    if _exists("portal_invitations.entrypoints.mail_catcher"):
        mail_dir = data_dir() / "mail"
        port = int(os.environ.get("SMTP_CATCHER_PORT", SMTP_CATCHER_PORT))
        commands.append(
            (
                "smtp-catcher",
                [
                    sys.executable,
                    "-m",
                    "portal_invitations.entrypoints.mail_catcher",
                    "--port",
                    str(port),
                    "--dir",
                    str(mail_dir),
                ],
                None,
            )
        )
    signin = _port("signin")
    commands.append(("signin", _uvicorn("portal_infra.dev_signin:create_app", signin), signin))
    for spec in SERVICES:
        port = int(os.environ.get(spec.port_env, spec.port))
        if _exists(f"{spec.package}.entrypoints.http"):
            factory = f"{spec.package}.entrypoints.http:create_app"
            commands.append((f"{spec.name}-api", _uvicorn(factory, port), port))
        if _exists(f"{spec.package}.entrypoints.worker"):
            worker = [sys.executable, "-m", f"{spec.package}.entrypoints.worker"]
            for role in spec.worker_roles or ("",):
                name = f"{spec.name}-{role or 'worker'}"
                commands.append((name, worker + (["--role", role] if role else []), None))
    if _exists("portal_delivery.entrypoints.sftp_server"):
        sftp_home = data_dir() / "sftp"
        commands.append(
            (
                "sftp-server",
                [
                    sys.executable,
                    "-m",
                    "portal_delivery.entrypoints.sftp_server",
                    "--port",
                    os.environ.get("SFTP_SERVER_PORT", str(SFTP_SERVER_PORT)),
                    "--root",
                    str(sftp_home / "root"),
                    "--host-key",
                    str(sftp_home / "host_key"),
                    "--user",
                    SFTP_USER,
                    "--password",
                    SFTP_PASSWORD,
                ],
                None,
            )
        )
    if _exists("portal_delivery.entrypoints.graph_fake"):
        commands += _remote_fakes()
    if _exists("portal_portal.entrypoints.http"):
        port = _port("portal")
        factory = "portal_portal.entrypoints.http:create_app"
        commands.append(("portal", _uvicorn(factory, port), port))
    nginx = _gateway_command()
    if nginx is not None:
        commands.append(("gateway", nginx, gateway_port()))
    return commands


def _remote_fakes() -> list[tuple[str, list[str], int | None]]:
    """The local Microsoft Graph and Clearfacts the OneDrive and Clearfacts workers talk to."""
    graph_port = os.environ.get("GRAPH_FAKE_PORT", str(GRAPH_FAKE_PORT))
    clearfacts_port = os.environ.get("CLEARFACTS_FAKE_PORT", str(CLEARFACTS_FAKE_PORT))
    module = "portal_delivery.entrypoints"
    return [
        (
            "graph-fake",
            [
                sys.executable,
                "-m",
                f"{module}.graph_fake",
                "--port",
                graph_port,
                "--root",
                str(data_dir() / "onedrive"),
                "--tenant",
                DEV_TENANT,
                "--client-id",
                DEV_CLIENT_ID,
                "--drive",
                DEV_DRIVE,
            ],
            None,
        ),
        (
            "clearfacts-fake",
            [
                sys.executable,
                "-m",
                f"{module}.clearfacts_fake",
                "--port",
                clearfacts_port,
                "--root",
                str(data_dir() / "clearfacts"),
                "--vat",
                DEV_VAT,
            ],
            None,
        ),
    ]


def _api(env: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    """A call to the local delivery API as an admin of the development office."""
    from portal_contracts.identity import Caller, Role

    # Signed like the local sign-in's tokens: the services verify them against its JWKS.
    token = dev_identity.load().issue(
        Caller(office_id=DEV_OFFICE, user_id="make-up", role=Role.ADMIN)
    )
    url = f"http://127.0.0.1:{env.get('DELIVERY_HTTP_PORT', '8105')}{path}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - our 127.0.0.1 API
        raw = answer.read()
    return json.loads(raw) if raw else None


def _seed_remote_connections(env: dict[str, str]) -> tuple[str, Path | None]:
    """OneDrive, Clearfacts and agent connections of office o1 on the local fakes, and the
    agent's token in `.data/stack/agent-token` (a new key when the stored one is unknown)."""
    if not _exists("portal_delivery.entrypoints.graph_fake"):
        return "", None
    existing = {c["name"] for c in _api(env, "GET", "/v1/connections")}
    wanted = {
        "local-onedrive": {
            "kind": "onedrive",
            "settings": {
                "tenant_id": DEV_TENANT,
                "client_id": DEV_CLIENT_ID,
                "drive_id": DEV_DRIVE,
                "base_folder": "Documents",
            },
            "secrets": {"client_secret": env["GRAPH_FAKE_CLIENT_SECRET"]},
        },
        "local-clearfacts": {
            "kind": "clearfacts",
            "secrets": {"token": env["CLEARFACTS_FAKE_TOKEN"]},
        },
        "local-agent": {"kind": "agent", "settings": {"base_folder": "inbox"}},
    }
    token_path = data_dir() / "stack" / "agent-token"
    made = []
    for name, body in wanted.items():
        if name in existing:
            continue
        created = _api(env, "POST", "/v1/connections", {"name": name, **body})
        made.append(name)
        if created.get("agent_key"):
            _keep_secret(token_path, created["agent_key"]["token"])
    if not token_path.exists() or not _agent_token_works(env, token_path.read_text().strip()):
        issued = _api(env, "POST", "/v1/connections/local-agent/agent-keys")
        _keep_secret(token_path, issued["token"])
    return ", ".join(made) or "already there", token_path


def _keep_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)


def _agent_token_works(env: dict[str, str], token: str) -> bool:
    url = f"http://127.0.0.1:{env.get('DELIVERY_HTTP_PORT', '8105')}/agent/v1/feed?limit=1"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our 127.0.0.1 API
            return True
    except OSError:
        return False


def _agent_command(env: dict[str, str], token_path: Path) -> list[str]:
    """The reference agent fetching office o1's agent deliveries into `.data/agent/`."""
    return [
        sys.executable,
        "-m",
        "portal_delivery.agent",
        "--url",
        f"http://127.0.0.1:{env.get('DELIVERY_HTTP_PORT', '8105')}",
        "--dir",
        str(data_dir() / "agent"),
        "--token-file",
        str(token_path),
    ]


def _seed_sftp_connection(env: dict[str, str]) -> str:
    """The local sFTP server as a ready connection ``local-sftp`` of office o1 (its host key
    pinned), so a client set to sFTP delivers without configuring anything."""
    if not _exists("portal_delivery.entrypoints.sftp_server"):
        return ""
    from portal_contracts.identity import Caller, Role
    from portal_delivery.entrypoints.sftp_server import host_key, host_key_line

    key_path = data_dir() / "sftp" / "host_key"
    deadline = time.monotonic() + 20
    while not key_path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    token = dev_identity.load().issue(
        Caller(office_id=DEV_OFFICE, user_id="make-up", role=Role.ADMIN)
    )
    api = f"http://127.0.0.1:{env.get('DELIVERY_HTTP_PORT', '8105')}/v1/connections"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(api, headers=headers), timeout=5) as answer:
        if any(c["name"] == "local-sftp" for c in json.loads(answer.read())):
            return "local-sftp (already there)"
    body = {
        "name": "local-sftp",
        "kind": "sftp",
        "settings": {
            "host": "127.0.0.1",
            "port": int(env.get("SFTP_SERVER_PORT", SFTP_SERVER_PORT)),
            "username": SFTP_USER,
            "host_key": host_key_line(host_key(key_path)),
            "base_folder": "inbox",
        },
        "secrets": {"password": SFTP_PASSWORD},
    }
    request = urllib.request.Request(api, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our own http://127.0.0.1 API
        return "local-sftp (created)"


def _healthy(port: int, path: str = "/healthz") -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait_healthy(
    processes: dict[str, subprocess.Popen[bytes]],
    ports: dict[str, int | None],
    stop: threading.Event,
) -> None:
    deadline = time.monotonic() + 90
    for name, port in ports.items():
        path = "/gateway/healthz" if name == "gateway" else "/healthz"
        while (
            port and not stop.is_set() and not _healthy(port, path) and time.monotonic() < deadline
        ):
            if processes[name].poll() is not None:
                break
            time.sleep(0.3)


def up(detach: bool, verbose: bool = False) -> int:
    if _running():
        print(f"http://127.0.0.1:{gateway_port()}/  (already running; make down stops it)")
        return 0
    given = {
        k: os.environ[k] for k in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI") if os.environ.get(k)
    }
    if len(given) == 2:  # servers named in the environment: use them, start none
        urls, infra_started = given, []
    else:
        with contextlib.redirect_stdout(sys.stdout if verbose else io.StringIO()):
            urls = local.up()
        infra_started = local.last_started()
    if verbose:
        for key, value in urls.items():
            print(f"{key}={value}")
    env = _environment(urls)
    dev_identity.load()  # the local sign-in's key, made before anyone reads its JWKS
    stop = threading.Event()
    if not detach:  # from now on Ctrl-C (or SIGTERM) means: stop what we started, then leave
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    logs = data_dir() / "logs"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    ports: dict[str, int | None] = {}
    for name, command, port in _commands():
        processes[name] = spawn(command, logs / f"{name}.log", env=env)
        ports[name] = port
    _state_file().parent.mkdir(parents=True, exist_ok=True)
    _state_file().write_text(json.dumps({n: p.pid for n, p in processes.items()}))
    (_state_file().parent / "infra-started.json").write_text(json.dumps(list(infra_started)))
    _wait_healthy(processes, ports, stop)
    failed = []
    for name, process in processes.items():
        port = ports[name]
        exited = process.poll() is not None
        if exited or (
            port and not _healthy(port, "/gateway/healthz" if name == "gateway" else "/healthz")
        ):
            failed.append(name)
        if verbose or exited:
            state = "exited — see its log" if exited else "running"
            where = f"http://127.0.0.1:{port}" if port else ""
            print(f"# {name:<20} {state:<22} {where}  log: {logs / (name + '.log')}")
    if "gateway" not in processes:
        print("# nginx is missing: `apt-get install nginx-light` (make up installs it when root)")
    try:
        seeded = _seed_sftp_connection(env)
        if seeded and verbose:
            files = data_dir() / "sftp" / "root" / "inbox"
            print(f"# sFTP connection for office {DEV_OFFICE}: {seeded}; files land in {files}")
    except OSError as exc:  # the stack runs anyway; the connection can be made by hand
        print(f"# could not create the local sFTP connection: {exc}")
    try:
        seeded, token_path = _seed_remote_connections(env)
        if token_path is not None:
            processes["delivery-agent"] = spawn(
                _agent_command(env, token_path), logs / "delivery-agent.log", env=env
            )
            _state_file().write_text(json.dumps({n: p.pid for n, p in processes.items()}))
            if verbose:
                print(
                    f"# OneDrive, Clearfacts and agent connections for office {DEV_OFFICE}: {seeded};"
                    f" files land in {data_dir() / 'onedrive'}, {data_dir() / 'clearfacts'} and"
                    f" {data_dir() / 'agent'} (the reference agent)"
                )
    except OSError as exc:
        print(f"# could not create the local remote-channel connections: {exc}")
    if failed:
        print(f"# not healthy: {', '.join(failed)} (logs under {logs})")
    print(f"http://127.0.0.1:{gateway_port()}/")
    if detach:
        print("# running in the background; `make down` stops it")
        return 0
    print("# Ctrl-C stops everything")
    while not stop.wait(1.0):
        for name, process in processes.items():
            if process.poll() is not None and not getattr(process, "reported", False):
                print(f"# {name} exited with code {process.returncode}; see its log")
                process.reported = True  # type: ignore[attr-defined]
    print("# stopping…")
    for process in processes.values():  # SIGTERM all first, so they shut down in parallel
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        stop_process(process)
    _state_file().unlink(missing_ok=True)
    # Stop the servers this run started; leave those `make infra-up` had started before.
    local.down(tuple(infra_started))
    return 0


def _running() -> bool:
    if not _state_file().exists():
        return False
    pids = json.loads(_state_file().read_text())
    return any(pid_alive(pid) for pid in pids.values())


def down() -> int:
    if _state_file().exists():
        for name, pid in json.loads(_state_file().read_text()).items():
            stop_pid(pid)
            print(f"# {name}: stopped (pid {pid})")
        _state_file().unlink()
    started = _state_file().parent / "infra-started.json"
    local.down(tuple(json.loads(started.read_text())) if started.exists() else ("kafka", "mongodb"))
    started.unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal_infra.stack")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--detach", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="every process, port and log")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args.detach, args.verbose)
    return down()


if __name__ == "__main__":
    sys.exit(main())
