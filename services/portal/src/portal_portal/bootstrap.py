"""The portal's one service object: its settings, the services' APIs and the token verifier.

The portal owns no data (no Kafka, no MongoDB): it renders pages from the services' APIs, which
it calls with the signed-in person's own token, so each service decides what that person sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_portal.adapters.api import Api
from portal_portal.config import Settings
from portal_servicekit.tokens import TokenVerifier, token_verifier


@dataclass
class Deps:
    api: Api
    verifier: TokenVerifier


@dataclass
class Service:
    settings: Settings
    deps: Deps

    async def prepare(self) -> None:
        return None

    async def close(self) -> None:
        await self.deps.api.close()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Service:
    settings = settings or Settings(**overrides)
    deps = Deps(api=Api(settings), verifier=token_verifier(settings.jwt_key))
    return Service(settings=settings, deps=deps)
