"""The local sign-in of `make up` (development only), behind the gateway at ``/auth/``.

Pick an office, a user, a role, a language and — for staff — the groups; the page records the
groups in the clients service (a group lists its staff: that is where every service reads a staff
member's groups from) and sets the portal's session cookie to a token signed by the local key
(:mod:`portal_infra.dev_identity`), whose JWKS it serves at ``/auth/jwks.json`` for the services.
Production replaces all of this with the identity provider's sign-in and JWKS URL.

``uvicorn --factory portal_infra.dev_signin:create_app --port 8109``
"""

from __future__ import annotations

import html
import os
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Form, Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from portal_contracts.identity import Caller, Role
from portal_contracts.values import Language
from portal_infra import dev_identity

COOKIE = "portal_token"
DEFAULT_OFFICE = "o1"


def _clients_url() -> str:
    return os.environ.get("DEV_SIGNIN_CLIENTS_URL", "http://127.0.0.1:8101").rstrip("/")


def _admin(identity: dev_identity.DevIdentity, office: str) -> dict[str, str]:
    caller = Caller(office_id=office, user_id="dev-signin", role=Role.ADMIN)
    return {"authorization": f"Bearer {identity.issue(caller)}"}


async def _groups(identity: dev_identity.DevIdentity, office: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as http:
        answer = await http.get(f"{_clients_url()}/v1/groups", headers=_admin(identity, office))
    answer.raise_for_status()
    groups: list[dict[str, Any]] = answer.json()
    return groups


async def _record_membership(
    identity: dev_identity.DevIdentity, office: str, user: str, chosen: set[str], new: list[str]
) -> list[str]:
    """The user becomes staff of the chosen (and new) groups and of no other; their ids."""
    headers = _admin(identity, office)
    base = _clients_url()
    async with httpx.AsyncClient(timeout=5) as http:
        for name in new:
            created = await http.post(f"{base}/v1/groups", json={"name": name}, headers=headers)
            if created.status_code == 201:
                chosen.add(created.json()["group_id"])
        answer = await http.get(f"{base}/v1/groups", headers=headers)
        answer.raise_for_status()
        member_of: list[str] = []
        for group in answer.json():
            if group["group_id"] == "everyone":
                continue
            staff = set(group["staff"])
            wanted = group["group_id"] in chosen or group["name"] in chosen
            if wanted:
                member_of.append(group["group_id"])
            if (user in staff) == wanted:
                continue
            staff = staff | {user} if wanted else staff - {user}
            put = await http.put(
                f"{base}/v1/groups/{quote(group['group_id'], safe='')}/staff",
                json={"user_ids": sorted(staff)},
                headers={**headers, "if-match": f'"{group["version"]}"'},
            )
            put.raise_for_status()
    return member_of


def _page(office: str, groups: list[dict[str, Any]], error: str = "", next_url: str = "/") -> str:
    e = html.escape
    boxes = "".join(
        f'<label><input type="checkbox" name="groups" value="{e(g["group_id"])}"> {e(g["name"])}</label>'
        for g in groups
        if g["group_id"] != "everyone"
    )
    warning = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sign in (development)</title><meta name="viewport" content="width=device-width">
<style>body{{font:15px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin:.5rem 0}} input[type=text],select{{padding:.4rem;width:100%}}
fieldset{{margin:1rem 0}} .error{{color:#b00020}} button{{padding:.5rem 1.2rem}}</style></head>
<body><h1>Sign in — local development</h1>
<p>This page stands in for the identity provider. It signs a token with the stack's local key.</p>
{warning}
<form method="get" action="/auth/signin"><label>Office <input type="text" name="office" value="{e(office)}"></label>
<button type="submit">Show this office's groups</button></form>
<form method="post" action="/auth/signin">
<input type="hidden" name="office" value="{e(office)}"><input type="hidden" name="next" value="{e(next_url)}">
<label>User <input type="text" name="user" value="admin@{e(office)}" required></label>
<label>Role <select name="role"><option value="admin">admin (every group)</option>
<option value="staff">staff (their groups and Everyone)</option></select></label>
<label>Language <select name="lang"><option value="fr">Français</option><option value="nl">Nederlands</option>
<option value="en">English</option></select></label>
<fieldset><legend>Groups (staff only; recorded in the clients service)</legend>{boxes or "<p>No group yet.</p>"}
<label>New groups (comma-separated names) <input type="text" name="new_groups"></label></fieldset>
<button type="submit">Sign in</button></form></body></html>"""


def create_app() -> FastAPI:
    identity = dev_identity.load()
    app = FastAPI(title="Local sign-in (development)", docs_url=None, redoc_url=None)

    @app.get("/auth/jwks.json")
    async def jwks() -> JSONResponse:
        return JSONResponse(identity.jwks(), headers={"cache-control": "max-age=300"})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/auth/signin", response_class=HTMLResponse)
    async def signin_page(
        office: Annotated[str, Query(max_length=100)] = DEFAULT_OFFICE,
        next: Annotated[str, Query(max_length=500)] = "/",
    ) -> HTMLResponse:
        office = office.strip() or DEFAULT_OFFICE
        try:
            groups = await _groups(identity, office)
            error = ""
        except httpx.HTTPError as exc:
            groups, error = (
                [],
                f"the clients service does not answer ({exc}); groups cannot be chosen",
            )
        return HTMLResponse(_page(office, groups, error, next))

    @app.post("/auth/signin")
    async def signin(
        office: Annotated[str, Form(min_length=1, max_length=100)],
        user: Annotated[str, Form(min_length=1, max_length=200)],
        role: Annotated[Role, Form()],
        lang: Annotated[Language, Form()] = Language.FR,
        groups: Annotated[list[str] | None, Form()] = None,
        new_groups: Annotated[str, Form(max_length=1000)] = "",
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        office, user = office.strip(), user.strip()
        member_of: list[str] = []
        if role is Role.STAFF:
            new = [n.strip() for n in new_groups.split(",") if n.strip()]
            try:
                member_of = await _record_membership(identity, office, user, set(groups or ()), new)
            except httpx.HTTPError as exc:
                return HTMLResponse(_page(office, [], f"groups not recorded: {exc}", next), 502)
        caller = Caller(
            office_id=office, user_id=user, role=role, groups=tuple(member_of), language=lang
        )
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, identity.issue(caller), httponly=True, samesite="strict", path="/"
        )
        return response

    @app.get("/auth/signout")
    async def signout() -> Response:
        response = RedirectResponse("/auth/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return app
