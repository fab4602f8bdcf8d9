"""The edge on a small app: bounds to the byte, declared names checked at start, the answers of
paths and methods the app does not have, the form field bound, JSON checks and If-Match."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Form, Request

from portal_contracts.identity import Caller, Role, issue_token
from portal_contracts.values import Language
from portal_servicekit.app import create_service_app
from portal_servicekit.edge import BodyLimit, json_problem
from portal_servicekit.identity import CurrentCaller
from portal_servicekit.preconditions import ANY_VERSION, if_match_version
from portal_servicekit.problems import ProblemError, size_params

KEY = "edge-unit-tests-key-0123456789abcdefghij"
TOKEN = {
    "authorization": "Bearer "
    + issue_token(Caller(office_id="o", user_id="u", role=Role.ADMIN, language=Language.NL), KEY)
}


def make_app(**edge: Any) -> FastAPI:
    app = create_service_app(title="t", jwt_key=KEY, **edge)

    @app.post("/raw")
    async def raw(request: Request, caller: CurrentCaller) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.post("/form")
    async def form(caller: CurrentCaller, note: Annotated[str, Form()]) -> dict[str, int]:
        return {"note": len(note)}

    @app.post("/model")
    async def model(caller: CurrentCaller, body: dict[str, int]) -> dict[str, int]:
        return body

    @app.post("/open")
    async def open_door(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    return app


async def _post(app: FastAPI, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.post(path, **kwargs)


async def _body(size: int) -> AsyncIterator[bytes]:
    for start in range(0, size, 1000):
        yield b"x" * min(1000, size - start)


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_of_exactly_the_bound_passes_one_byte_more_does_not(chunked: bool) -> None:
    app = make_app(body_limits={"POST /raw": 5000})
    for size, status in ((5000, 200), (5001, 413)):
        content: Any = _body(size) if chunked else b"x" * size
        response = await _post(app, "/raw", content=content, headers=TOKEN)
        assert response.status_code == status, (size, response.text)
    assert response.json()["code"] == "body.too_large"
    assert response.json()["title"] == "Het verzoek is te groot voor dit adres: hoogstens 4 KB."


async def test_the_default_bound_applies_to_a_route_not_named() -> None:
    app = make_app(default_body_limit=100)
    response = await _post(app, "/raw", content=b"x" * 101, headers=TOKEN)
    assert response.status_code == 413


async def test_a_name_that_matches_no_route_stops_the_app_at_start() -> None:
    app = make_app(body_limits={"POST /rows": 10})
    with pytest.raises(ValueError, match="POST /rows"):
        async with app.router.lifespan_context(app):
            pass
    with pytest.raises(ValueError, match="METHOD /path"):
        make_app(public_routes=["/open"])


async def test_a_declared_public_route_reads_its_body_without_a_token() -> None:
    app = make_app(public_routes=["POST /open"], body_limits={"POST /open": 10})
    assert (await _post(app, "/open", content=b"x" * 10)).json() == {"read": 10}
    assert (await _post(app, "/open", content=b"x" * 11)).status_code == 413
    refused = await _post(make_app(), "/open", content=b"x" * 10)
    assert refused.json()["code"] == "auth.missing"


async def test_unknown_paths_and_methods() -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/nowhere")).json()["code"] == "auth.missing"
        assert (await c.get("/nowhere", headers=TOKEN)).json()["code"] == "not_found"
        probe = await c.post("/healthz")  # a public path: no token needed to learn its methods
        assert (probe.status_code, probe.headers["allow"]) == (405, "GET")
        assert (await c.get("/raw")).status_code == 401  # a protected path: token first
        wrong = await c.get("/raw", headers=TOKEN)
        assert (wrong.status_code, wrong.headers["allow"], wrong.json()["code"]) == (
            405,
            "POST",
            "method.not_allowed",
        )


async def test_a_form_field_takes_up_to_its_declared_bound() -> None:
    app = make_app(body_limits={"POST /form": BodyLimit(4 * 2**20, field_bytes=3 * 2**20)})
    most = 3 * 2**20 - len("note")  # a urlencoded field counts its name too (Starlette)
    fits = await _post(app, "/form", data={"note": "n" * most}, headers=TOKEN)
    assert fits.json() == {"note": most}
    over = await _post(app, "/form", data={"note": "n" * (most + 1)}, headers=TOKEN)
    assert (over.status_code, over.json()["code"]) == (413, "form.field_too_large")
    assert over.json()["title"] == "Een veld van het formulier is te groot: hoogstens 3 MB."


async def test_a_json_model_is_checked_by_the_edge_a_raw_body_is_not() -> None:
    app = make_app()
    headers = {**TOKEN, "content-type": "application/json"}
    checked = await _post(app, "/model", content=b"[" * 40 + b"]" * 40, headers=headers)
    assert checked.json()["code"] == "json.too_deep"
    assert (await _post(app, "/model", json={"a": 1}, headers=TOKEN)).json() == {"a": 1}
    raw = await _post(app, "/raw", content=b"[" * 40 + b"]" * 40, headers=headers)
    assert raw.json() == {"read": 80}  # the app reads it as bytes: nothing to check


async def test_a_client_that_leaves_mid_body_gets_no_answer() -> None:
    app = make_app()
    messages = [
        {"type": "http.request", "body": b'{"a": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/model",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", TOKEN["authorization"].encode()),
        ],
        "query_string": b"",
    }
    await app(scope, receive, send)
    assert sent == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", None),
        (b'{"a": [1, {"b": null}]}', None),
        (b"[" * 32 + b"]" * 32, None),
        (b"[" * 33 + b"]" * 33, "json.too_deep"),
        (b"[" * 3000 + b"]" * 3000, "json.too_deep"),
        (b'"\xff"', "json.not_utf8"),
        (b"{'a': 1}", "json.invalid"),
        (b"1" * 4301, "json.number_too_long"),
        (b"1" * 4300, None),
    ],
)
def test_json_problems(body: bytes, code: str | None) -> None:
    problem = json_problem(body)
    assert (problem.code if problem else None) == code


def test_sizes_are_written_for_people() -> None:
    assert size_params(256 * 1024) == {"size": "256 KB", "size_fr": "256 Ko"}
    assert size_params(59 * 2**20) == {"size": "59 MB", "size_fr": "59 Mo"}
    assert size_params(20 * 2**20 + 2**19) == {"size": "20.5 MB", "size_fr": "20,5 Mo"}


def test_if_match() -> None:
    assert if_match_version('"7"') == 7
    assert if_match_version('W/"7"') == 7
    assert if_match_version(" * ") is ANY_VERSION
    hostile = ("9" * 5000, '"99999999999999999999999"', "²", "٣")  # were 500 (or version 3)
    for value, status in (
        (None, 428),
        ("", 428),
        ('"seven"', 412),
        ('"1", "2"', 412),
        *((h, 412) for h in hostile),
    ):
        with pytest.raises(ProblemError) as refused:
            if_match_version(value)
        assert refused.value.status == status
