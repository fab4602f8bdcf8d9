"""Building a service's FastAPI app the same way everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from portal_servicekit.edge import DEFAULT_BODY_LIMIT, BodyLimit, EdgeGuard, EdgePolicy
from portal_servicekit.health import ReadinessCheck
from portal_servicekit.health import router as health_router
from portal_servicekit.logs import configure_logging
from portal_servicekit.problems import install_problem_handlers
from portal_servicekit.staff_groups import StaffGroups, staff_groups_from_environment
from portal_servicekit.tokens import TokenVerifier, token_verifier

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    *,
    title: str,
    jwt_key: str,
    lifespan: Lifespan | None = None,
    readiness_checks: dict[str, ReadinessCheck] | None = None,
    version: str = "1.0.0",
    public_routes: Iterable[str] = (),
    body_limits: Mapping[str, int | BodyLimit] | None = None,
    default_body_limit: int = DEFAULT_BODY_LIMIT,
    verifier: TokenVerifier | None = None,
    staff_groups: StaffGroups | None = None,
    **kwargs: Any,
) -> FastAPI:
    """A FastAPI app with problem+json errors, `/healthz`, `/readyz`, `/metrics` and the JWT key,
    behind the edge (:mod:`portal_servicekit.edge`): routes other than the probes, the docs and
    ``public_routes`` refuse a caller whose token does not verify before reading a body, and each
    body is bounded while it streams by its entry in ``body_limits`` (``"POST /v1/path/{id}"``:
    bytes or a :class:`BodyLimit`) or ``default_body_limit`` (a JSON form).

    Tokens are verified by ``verifier``, by default the one the environment names
    (:func:`~portal_servicekit.tokens.token_verifier`: the identity provider's JWKS when
    ``PORTAL_JWT_JWKS_URL`` is set, else ``jwt_key``, development only); a staff caller's groups
    come from ``app.state.staff_groups`` (default: the clients service at
    ``PORTAL_STAFF_GROUPS_URL``, see :mod:`portal_servicekit.staff_groups`)."""
    configure_logging()
    policy = EdgePolicy(
        public_routes=public_routes, body_limits=body_limits, default_limit=default_body_limit
    )
    if policy.field_bytes is not None:
        kwargs["form_limits"] = {
            "max_part_size": policy.field_bytes,
            **kwargs.get("form_limits", {}),
        }

    @asynccontextmanager
    async def checked(app: FastAPI) -> AsyncIterator[None]:
        policy.resolve_routes(app.routes)  # a route named above that the app lacks stops it here
        if lifespan is None:
            yield
            return
        async with lifespan(app):
            yield

    app = FastAPI(title=title, version=version, lifespan=checked, **kwargs)
    verifier = verifier or token_verifier(jwt_key)
    app.state.jwt_key = jwt_key
    app.state.token_verifier = verifier
    app.state.staff_groups = staff_groups or staff_groups_from_environment()
    app.state.readiness_checks = dict(readiness_checks or {})
    app.state.edge = policy
    install_problem_handlers(app)
    app.include_router(health_router)
    app.add_middleware(
        EdgeGuard,
        policy=policy,
        verifier=verifier,
        routes=lambda: app.routes,
        staff_groups=lambda: app.state.staff_groups,
    )
    return app
