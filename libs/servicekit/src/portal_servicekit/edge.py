"""The HTTP edge every service shares (issue 16): no body is read before its sender is known, and
none is read beyond its route's bound.

:func:`~portal_servicekit.app.create_service_app` installs :class:`EdgeGuard`, a pure-ASGI
middleware, in front of the app. For each request it finds the route (method and path template,
from the app's own routes) and then:

1. **authenticates first**: a route that is not public needs a bearer token that verifies
   (:mod:`portal_servicekit.tokens`: the identity provider's JWKS, or the development key), else
   401 problem+json before one byte of the body is read. The verified caller, a staff member's
   groups resolved from the clients service's records (:mod:`portal_servicekit.staff_groups`),
   is left in the request's state for :data:`~portal_servicekit.identity.CurrentCaller`. Public routes
   are declared, never guessed: :data:`PUBLIC_ROUTES` (probes, metrics, API docs) plus those a
   service names (``public_routes=``).
2. **bounds the body while it streams**: ``Content-Length`` over the bound answers 413 at once;
   otherwise every ``http.request`` message is counted as it arrives (chunked bodies included)
   and the first byte over the bound answers 413. The bound is the route's entry in
   ``body_limits=`` or :data:`DEFAULT_BODY_LIMIT`, a JSON form's size.
3. **checks a JSON body before the app parses it** (on a route whose body is a model, not a
   form; the body is whole in memory within its bound, as FastAPI would hold it): not UTF-8,
   not JSON, nested deeper than :data:`MAX_JSON_DEPTH`, or an integer over Python's digit limit
   (4,300) each answer 400 with their own code, instead of Starlette's bare 400 ("internal").
4. answers a known path asked with another method 405 with ``Allow`` (every method of the path).

Routes are named ``"METHOD /path/{template}"`` as declared in FastAPI; a declared name that names
no route of the app fails its start (the lifespan checks them), so a typo cannot silently leave
an upload on the JSON bound.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import params
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_servicekit.identity import verified_caller
from portal_servicekit.problems import BodyTooLarge, KiB, ProblemError, problem_response
from portal_servicekit.staff_groups import LOOKUP_HEADER, StaffGroups, with_groups
from portal_servicekit.tokens import IdentityUnavailable, LocalKeyVerifier, TokenVerifier

DEFAULT_BODY_LIMIT = 256 * KiB
"""A JSON form's bound: the biggest form of the services is a few KB."""
MAX_JSON_DEPTH = 32
"""Containers inside containers; the deepest form of the services has 4 levels."""
PUBLIC_ROUTES = (
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /openapi.json",
    "GET /docs",
    "GET /docs/oauth2-redirect",
    "GET /redoc",
)


@dataclass(frozen=True)
class BodyLimit:
    """The bound of one route's body, and of one non-file field of its form (``field_bytes``;
    FastAPI's default is 1 MiB). The largest ``field_bytes`` declared applies to every form of
    the app, each still within its route's ``max_bytes``."""

    max_bytes: int
    field_bytes: int | None = None


def _route_name(name: str) -> tuple[str, str]:
    method, _, path = name.strip().partition(" ")
    if not method.isalpha() or not path.startswith("/"):
        raise ValueError(f"a route is named 'METHOD /path', not {name!r}")
    return method.upper(), path.strip()


@dataclass(frozen=True)
class _Route:
    methods: frozenset[str]
    path: str
    pattern: re.Pattern[str]
    parses_json: bool  # FastAPI reads its body as JSON (a body model, not a form)


@dataclass(frozen=True)
class Resolved:
    """Where a request goes: its route (``None``: no route has this method there), the methods
    its path takes, and what the edge applies to it."""

    route: tuple[str, str] | None
    allowed: frozenset[str]
    public: bool
    limit: int
    parses_json: bool = False


class EdgePolicy:
    """The public routes and body bounds of one app, resolved against its routes once."""

    def __init__(
        self,
        *,
        public_routes: Iterable[str] = (),
        body_limits: Mapping[str, int | BodyLimit] | None = None,
        default_limit: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        self.default_limit = default_limit
        self.declared_public = frozenset(_route_name(n) for n in public_routes)
        self.public = self.declared_public | {_route_name(n) for n in PUBLIC_ROUTES}
        self.limits: dict[tuple[str, str], int] = {}
        self.field_bytes: int | None = None
        for name, limit in (body_limits or {}).items():
            bound = limit if isinstance(limit, BodyLimit) else BodyLimit(limit)
            if bound.max_bytes <= 0:
                raise ValueError(f"the body bound of {name} must be positive")
            self.limits[_route_name(name)] = bound.max_bytes
            if bound.field_bytes is not None:
                self.field_bytes = max(self.field_bytes or 0, bound.field_bytes)
        self._routes: list[_Route] | None = None

    def body_limit(self, method: str, path: str) -> int:
        """The bound of a route's body (by its path template)."""
        return self.limits.get((method.upper(), path), self.default_limit)

    def resolve_routes(self, routes: Sequence[BaseRoute]) -> None:
        """Index the app's routes; a declared route the app does not have is an error."""
        found: list[_Route] = []
        for context in iter_route_contexts(routes):
            path, methods = context.path, context.methods
            if path and methods:
                body = getattr(context, "body_field", None)
                json_body = body is not None and not isinstance(body.field_info, params.Form)
                found.append(_Route(frozenset(methods), path, compile_path(path)[0], json_body))
        have = {(m, r.path) for r in found for m in r.methods}
        missing = sorted(
            f"{m} {p}" for m, p in (self.declared_public | self.limits.keys()) if (m, p) not in have
        )
        if missing:
            raise ValueError(f"the edge names routes this app does not have: {missing}")
        self._routes = found

    def resolve(
        self, method: str, path: str, routes: Callable[[], Sequence[BaseRoute]]
    ) -> Resolved:
        if self._routes is None:
            self.resolve_routes(routes())
        assert self._routes is not None  # noqa: S101 - set just above
        allowed: set[str] = set()
        public_path = True
        for route in self._routes:
            if not route.pattern.match(path):
                continue
            key = (method, route.path)
            if method in route.methods:
                public, limit = key in self.public, self.body_limit(*key)
                return Resolved(key, frozenset(route.methods), public, limit, route.parses_json)
            allowed |= route.methods
            public_path = public_path and all((m, route.path) in self.public for m in route.methods)
        # No route has this method here: the edge answers 405 with Allow (without a token on an
        # all-public path: a probe asked with another method), or the router answers 404.
        return Resolved(None, frozenset(allowed), bool(allowed) and public_path, self.default_limit)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :] or "/"
    return path


def _is_json(scope: Scope) -> bool:
    media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _too_deep(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def json_problem(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> ProblemError | None:
    """Why ``body`` is not a JSON document the app can take, or None."""
    if not body:
        return None  # FastAPI treats an empty body as no body
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        return ProblemError(400, "json.not_utf8")
    except json.JSONDecodeError as exc:
        return ProblemError(400, "json.invalid", params={"position": exc.pos})
    except RecursionError:
        return ProblemError(400, "json.too_deep", params={"max_depth": max_depth})
    except ValueError:  # int() of more digits than sys.get_int_max_str_digits()
        return ProblemError(
            400, "json.number_too_long", params={"max_digits": sys.get_int_max_str_digits()}
        )
    if isinstance(value, dict | list) and _too_deep(value, max_depth):
        return ProblemError(400, "json.too_deep", params={"max_depth": max_depth})
    return None


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()  # the disconnect, when the app waits for it
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        if seen > limit:
            raise BodyTooLarge(limit)
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


class EdgeGuard:
    """The middleware; see the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: EdgePolicy,
        routes: Callable[[], Sequence[BaseRoute]],
        jwt_key: str | None = None,
        verifier: TokenVerifier | None = None,
        staff_groups: Callable[[], StaffGroups | None] = lambda: None,
    ) -> None:
        self.app = app
        self.policy = policy
        if verifier is None:
            if jwt_key is None:
                raise ValueError("the edge needs a token verifier (or a development key)")
            verifier = LocalKeyVerifier(jwt_key)
        self.verifier = verifier
        self.routes = routes
        self.staff_groups = staff_groups

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        resolved = self.policy.resolve(method, _route_path(scope), self.routes)
        if not resolved.public:
            header = _header(scope, b"authorization") or ""
            try:
                caller = await verified_caller(header, self.verifier)
                lookup = _header(scope, LOOKUP_HEADER.encode()) is not None
                token = header.partition(" ")[2].strip()
                caller = await with_groups(caller, token, self.staff_groups(), lookup=lookup)
            except ProblemError as refused:
                await self._answer(scope, receive, send, refused)
                return
            except IdentityUnavailable:
                unavailable = ProblemError(503, "auth.unavailable", headers={"Retry-After": "5"})
                await self._answer(scope, receive, send, unavailable)
                return
            state = scope.setdefault("state", {})
            state["language"] = caller.language.value
            state["caller"] = caller
        if resolved.route is None and resolved.allowed:
            allow = ", ".join(sorted(resolved.allowed))
            await self._answer(scope, receive, send, method_not_allowed(allow))
            return
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > resolved.limit:
            await self._answer(scope, receive, send, BodyTooLarge(resolved.limit).problem())
            return
        await self._pass(scope, receive, send, resolved)

    async def _pass(self, scope: Scope, receive: Receive, send: Send, resolved: Resolved) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if resolved.parses_json and _is_json(scope):
                body = await _read_body(receive, resolved.limit)
                refused = json_problem(body)
                if refused is not None:
                    await self._answer(scope, receive, send, refused)
                    return
                await self.app(scope, _replay(body, receive), watched)
            else:
                await self.app(scope, _bounded(receive, resolved.limit), watched)
        except _Disconnected:
            return
        except BodyTooLarge as exc:  # raised where no exception handler of the app saw it
            if started:
                raise
            await self._answer(scope, receive, send, exc.problem())

    @staticmethod
    async def _answer(scope: Scope, receive: Receive, send: Send, error: ProblemError) -> None:
        response: Response = problem_response(Request(scope), error)
        await response(scope, receive, send)


def method_not_allowed(allow: str) -> ProblemError:
    return ProblemError(
        405, "method.not_allowed", params={"allowed": allow}, headers={"Allow": allow}
    )
