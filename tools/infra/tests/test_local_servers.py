"""The project's own provisioning: a throwaway Kafka and MongoDB-wire server (SecantusDB) start, answer and stop by pid,
and a run whose broker dies fails fast with a clear message instead of hanging."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from portal_infra import kafka, mongodb
from portal_infra.process import MissingTool, pid_alive, require_tool, stop_process

pytestmark = pytest.mark.integration


def test_a_throwaway_mongodb_server_starts_answers_and_stops(tmp_path: Path) -> None:
    node = mongodb.new_node(tmp_path, durable=False)
    process = mongodb.start_and_wait(node)
    try:
        assert mongodb.server_answers(node.uri)
    finally:
        stop_process(process)
    assert not pid_alive(process.pid)
    assert not mongodb.server_answers(node.uri)


def test_the_make_up_server_commits_durably(tmp_path: Path) -> None:
    assert "--sync-on-commit" in mongodb.new_node(tmp_path, durable=True).command()
    assert "--sync-on-commit" not in mongodb.new_node(tmp_path, durable=False).command()


def test_a_missing_cargo_says_what_and_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PORTAL_CACHE_DIR", "/nonexistent-cache")  # no built binary either
    with pytest.raises(MissingTool) as caught:
        mongodb.server_binary()
    assert "`cargo` is not on PATH" in str(caught.value)
    assert "rustup" in str(caught.value)


def test_a_missing_tool_says_what_and_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingTool) as caught:
        require_tool("mvn")
    assert "`mvn` is not on PATH" in str(caught.value)
    assert "apt-get install" in str(caught.value)


INNER_TEST = """
import asyncio, os, signal
import pytest
from portal_contracts.broker import build_broker, subscriber_options

@pytest.mark.integration
async def test_consumes_while_the_broker_dies(real_services, kafka_bootstrap, topics, group_id):
    broker = build_broker(kafka_bootstrap, client_id="doomed")

    @broker.subscriber(topics.of("ClientCreated"), **subscriber_options(group_id))
    async def handle(body: dict) -> None: ...

    await broker.start()
    os.kill(real_services.kafka.pid, signal.SIGKILL)  # the broker dies mid-test
    await asyncio.sleep(600)  # without the watchdog this would hang for ten minutes
"""


def test_a_killed_broker_fails_the_run_within_a_minute(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TEST))
    root = Path(__file__).resolve().parents[3]
    env = {
        k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
    }
    env["PORTAL_DATA_DIR"] = str(tmp_path / "data")  # do not reuse `make infra-up` servers
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "portal_infra.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            str(root / "pyproject.toml"),
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "FAILED: kafka (127.0.0.1:" in output, output
    assert "died during the run" in output, output
    # Broker start-up (~10 s cold) plus detection (~1 s) — well under a minute after the kill.
    assert elapsed < 90, f"took {elapsed:.0f}s:\n{output}"


def test_kafka_jars_are_cached() -> None:
    first = time.monotonic()
    libs = kafka.kafka_libs()
    assert (libs / ".complete").exists()
    assert any(p.name.startswith("kafka_2.13-") for p in libs.iterdir())
    assert time.monotonic() - first < 5  # second resolution is a cache hit
