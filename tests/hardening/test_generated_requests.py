"""Requests generated from each service's committed OpenAPI document (schemathesis: valid ones
and ones breaking the schema) sent to the running app in process: none may be answered 5xx, and
each refusal is problem+json. A small run (:data:`CASES` per operation and mode), to catch what
the hand-written table of test_hostile_inputs does not think of."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis.errors import NonInteractiveExampleWarning, Unsatisfiable
from schemathesis import GenerationMode

from tests.hardening.apps import SERVICES, bearer
from tests.hardening.wire import Apps

ROOT = Path(__file__).resolve().parents[2]
CASES = 6
FUZZ = bearer("office-fuzz")  # an office of its own: what the valid cases create stays there


def _cases(operation: Any, mode: GenerationMode) -> list[Any]:
    """``CASES`` cases; none in the negative mode for an operation that takes nothing."""
    strategy = operation.as_strategy(generation_mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        try:
            return [strategy.example() for _ in range(CASES)]
        except Unsatisfiable:
            return []


def _request(client: httpx.AsyncClient, case: Any) -> httpx.Request | None:
    """The case as an httpx request; None when httpx cannot send it (a header it cannot
    encode): the app never sees those."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url).rstrip("/"))
    kwargs.pop("cookies", None)
    headers = {**kwargs.pop("headers", {}), **FUZZ}
    body: dict[str, Any] = {}
    for name in ("json", "data", "files", "content"):
        if kwargs.get(name) is not None:
            body[name] = kwargs.pop(name)
        kwargs.pop(name, None)
    if isinstance(body.get("data"), str | bytes):  # a raw body, not form fields
        body["content"] = body.pop("data")
    try:
        return client.build_request(headers=headers, **kwargs, **body)
    except (TypeError, ValueError, UnicodeEncodeError):
        return None


@pytest.mark.parametrize("service", SERVICES)
async def test_generated_requests_get_no_5xx(apps: Apps, service: str) -> None:
    app = await apps.get(service)
    schema = schemathesis.openapi.from_path(ROOT / "docs/api/openapi" / f"{service}.json")
    transport = httpx.ASGITransport(app=app)
    wrong: list[str] = []
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(transport=transport, base_url="http://edge", timeout=30) as c:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for case in _cases(operation, mode):
                    request = _request(c, case)
                    if request is None:
                        continue
                    where = f"{request.method} {request.url.raw_path.decode()[:120]} ({mode.value})"
                    try:
                        response = await c.send(request)
                    except Exception as exc:  # an app's exception: a 500 behind a server
                        wrong.append(f"{where}: raised {exc!r}")
                        continue
                    statuses[response.status_code] += 1
                    ctype = response.headers.get("content-type", "")
                    if response.status_code >= 500:
                        wrong.append(f"{where}: {response.status_code} {response.text[:200]}")
                    elif response.status_code >= 400 and "problem+json" not in ctype:
                        wrong.append(f"{where}: {response.status_code} {ctype}")
    print(f"{service}: {statuses.total()} generated requests, by status {sorted(statuses.items())}")
    assert statuses.total() > 0
    assert not wrong, "\n".join(wrong)
