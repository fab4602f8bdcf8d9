"""The services' HTTP APIs, called with the signed-in user's token (one pooled client)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from portal_portal.config import Settings


@dataclass
class ApiError(Exception):
    """A service refused: its status and problem+json (``errors`` are field problems)."""

    status: int
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))

    @property
    def title(self) -> str:
        return str(self.problem.get("title", ""))

    def field_errors(self) -> dict[str, str]:
        """Each field's problems, joined (a password can break several rules)."""
        found: dict[str, list[str]] = {}
        for e in self.problem.get("errors") or []:
            found.setdefault(str(e.get("field", "")), []).append(
                str(e.get("message") or e.get("code", ""))
            )
        return {name: " ".join(messages) for name, messages in found.items()}


def q(value: str) -> str:
    return quote(value, safe="")


class Api:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = client or httpx.AsyncClient(
            timeout=settings.timeout_s, limits=httpx.Limits(max_keepalive_connections=32)
        )
        self.base = {
            "clients": settings.clients_url.rstrip("/"),
            "importer": settings.importer_url.rstrip("/"),
            "invitations": settings.invitations_url.rstrip("/"),
            "ubl": settings.ubl_url.rstrip("/"),
            "delivery": settings.delivery_url.rstrip("/"),
        }

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None,
        lang: str,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        files: Any = None,
        raw: bool = False,
    ) -> Any:
        sent = {"accept-language": lang, **(headers or {})}
        if token:
            sent["authorization"] = f"Bearer {token}"
        try:
            answer = await self.http.request(
                method,
                self.base[service] + path,
                json=json,
                params=params,
                headers=sent,
                files=files,
            )
        except httpx.TransportError as exc:  # the service is down: a page says so, no 500
            raise ApiError(503, {"code": "unavailable", "title": f"{service}: {exc}"}) from exc
        if answer.status_code >= 400:
            try:
                problem = answer.json()
            except ValueError:
                problem = {"title": answer.text[:200]}
            raise ApiError(answer.status_code, problem if isinstance(problem, dict) else {})
        if raw:
            return answer
        if answer.status_code == 204 or not answer.content:
            return None
        return answer.json()
