"""The page the invitation e-mail links to (``/invitation?token=…``): the office's name, a
password (the stated policy), the mobile number on record; expired, used and revoked links get
their own page, in the client's language. Public: the link's token is the credential; the
invitations service counts wrong guesses (429)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from portal_portal.adapters.api import ApiError
from portal_portal.i18n import LANGUAGES, text

if TYPE_CHECKING:
    from portal_portal.entrypoints.http import Pages

DEAD = {"expired", "used", "revoked", "invalid"}


def _forwarded(request: Request) -> dict[str, str]:
    """The client's address for the invitations service's guess counting (X-Forwarded-For as
    the gateway set it, the portal's peer appended)."""
    chain = request.headers.get("x-forwarded-for", "")
    peer = request.client.host if request.client else ""
    value = ", ".join(p for p in (chain, peer) if p)
    return {"x-forwarded-for": value} if value else {}


def install(app: FastAPI, pages: Pages) -> None:
    api = pages.api

    async def link(token: str, request: Request) -> dict[str, Any]:
        lang = request.query_params.get("lang") or "fr"
        try:
            found: dict[str, Any] = await api.call(
                "invitations", "GET", "/v1/invitations/link", token=None, lang=lang,
                params={"token": token}, headers=_forwarded(request),
            )  # fmt: skip
        except ApiError as exc:
            if exc.status == 429:
                return {"state": "too_many", "language": lang}
            return {"state": "invalid", "language": lang}
        return found

    def lang_of(found: dict[str, Any], request: Request) -> str:
        chosen = request.query_params.get("lang")
        if chosen in LANGUAGES:
            return chosen
        lang = str(found.get("language") or "fr")
        return lang if lang in LANGUAGES else "fr"

    async def policy(lang: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = await api.call(
                "invitations", "GET", "/v1/invitations/password-policy", token=None, lang=lang
            )
        except ApiError:
            return {"rules": [], "min_length": 12, "max_length": 128}
        return found

    def dead(request: Request, state: str, lang: str) -> HTMLResponse:
        key = state if state in DEAD else "invalid"
        if state == "too_many":
            return pages.render(
                request, "onboarding_closed.html", lang, http_status=429,
                title=text("ob.invalid_title", lang), message=text("ob.too_many", lang),
            )  # fmt: skip
        return pages.render(
            request, "onboarding_closed.html", lang, http_status=410 if key != "invalid" else 404,
            title=text(f"ob.{key}_title", lang), message=text(f"ob.{key}", lang),
        )  # fmt: skip

    @app.get("/invitation", response_class=HTMLResponse)
    async def onboarding(request: Request, token: str = "") -> HTMLResponse:
        found = await link(token, request) if token else {"state": "invalid"}
        lang = lang_of(found, request)
        if found.get("state") != "valid":
            return dead(request, str(found.get("state")), lang)
        return pages.render(
            request, "onboarding.html", lang, token=token, link=found,
            policy=await policy(lang), errors={}, mobile="",
        )  # fmt: skip

    @app.post("/invitation", response_class=HTMLResponse)
    async def accept(request: Request) -> HTMLResponse:
        form = await request.form()
        token = str(form.get("token") or "")
        password, again = str(form.get("password") or ""), str(form.get("password2") or "")
        mobile = str(form.get("mobile_phone") or "")
        found = await link(token, request)
        lang = lang_of(found, request)
        if found.get("state") != "valid":
            return dead(request, str(found.get("state")), lang)
        errors: dict[str, str] = {}
        if password != again:
            errors["password2"] = text("ob.mismatch", lang)
        else:
            try:
                done = await api.call(
                    "invitations", "POST", "/v1/invitations/accept", token=None, lang=lang,
                    json={"token": token, "password": password, "mobile_phone": mobile},
                    headers=_forwarded(request),
                )  # fmt: skip
                return pages.render(
                    request, "onboarding_done.html", lang, link=found, login=done["login"]
                )
            except ApiError as exc:
                if exc.status == 429:
                    return dead(request, "too_many", lang)
                if exc.status == 400:
                    return dead(request, str((await link(token, request)).get("state")), lang)
                errors = exc.field_errors() or {"password": exc.title}
        return pages.render(
            request, "onboarding.html", lang, http_status=422, token=token, link=found,
            policy=await policy(lang), errors=errors, mobile=mobile,
        )  # fmt: skip
