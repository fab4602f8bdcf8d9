"""`uvicorn --factory portal_portal.entrypoints.http:create_app --port 8106`: the portal's pages.

Server-rendered (Jinja2), plain HTML forms that work without script, and one small script for the
upload's progress and the "+" rows. Every page calls the services' APIs with the signed-in
person's token (the session cookie the sign-in set), so what a page shows is what the services
let that person see: another office's client answers "not found" here as it does there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from portal_contracts.identity import Caller, InvalidToken, Role
from portal_contracts.values import AccountingSoftware, TransferMethod
from portal_portal import forms
from portal_portal.adapters.api import ApiError, q
from portal_portal.bootstrap import Service, bootstrap
from portal_portal.i18n import LANGUAGES, text
from portal_servicekit.tokens import IdentityUnavailable

HERE = Path(__file__).resolve().parent.parent
PUBLIC_PREFIXES = ("/static/", "/invitation", "/healthz")
NOT_YET_KNOWN_S = 8.0  # how long an action waits for invitations to hear of a new client
# action -> (service, method, path): access actions belong to invitations, archiving to clients
ACTIONS = {
    "invite": ("invitations", "POST", "/v1/invitations/clients/{id}"),
    "resend": ("invitations", "POST", "/v1/invitations/clients/{id}/resend"),
    "revoke": ("invitations", "DELETE", "/v1/invitations/clients/{id}"),
    "activate": ("invitations", "POST", "/v1/invitations/clients/{id}/activation"),
    "archive": ("clients", "POST", "/v1/clients/{id}/archive"),
    "restore": ("clients", "POST", "/v1/clients/{id}/restore"),
}
VIEWS = ("inactive", "active", "archived")


class SignIn(Exception):
    """No valid session: go to the sign-in page."""


def _language(request: Request, caller: Caller | None) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("portal_lang")
    if chosen in LANGUAGES:
        return chosen
    if caller is not None:
        return caller.language.value
    header = request.headers.get("accept-language", "")[:2].lower()
    return header if header in LANGUAGES else "fr"


class Pages:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.api = service.deps.api
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.globals["LANGUAGES"] = LANGUAGES

    async def caller(self, request: Request) -> tuple[Caller, str]:
        token = request.cookies.get(self.service.settings.cookie, "")
        if not token:
            raise SignIn
        try:
            return await self.service.deps.verifier.averify(token), token
        except (InvalidToken, IdentityUnavailable) as exc:
            raise SignIn from exc

    def render(
        self, request: Request, name: str, lang: str, http_status: int = 200, **context: Any
    ) -> HTMLResponse:
        def t(key: str, **params: str) -> str:
            return text(key, lang, **params)

        response = self.templates.TemplateResponse(
            request,
            name,
            {"t": t, "lang": lang, "settings": self.service.settings, **context},
            status_code=http_status,
        )
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("portal_lang", lang, samesite="strict", httponly=True)
        return response


def _back(path: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def _lists(form: Any) -> dict[str, list[str]]:
    return {key: [str(v) for v in form.getlist(key)] for key in form}


def _scalars(form: Any) -> dict[str, str]:
    return {key: str(form.get(key)) for key in form if not isinstance(form.get(key), UploadFile)}


def create_app(service: Service | None = None) -> FastAPI:
    svc = service or bootstrap()
    pages = Pages(svc)
    api = pages.api
    size = svc.settings.page_size

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.prepare()
        yield
        if service is None:
            await svc.close()

    app = FastAPI(
        title="Portal pages", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.service = svc

    @app.exception_handler(SignIn)
    async def to_signin(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _back(svc.settings.signin_url, next=target)

    @app.exception_handler(ApiError)
    async def api_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)  # noqa: S101 - registered for it
        if exc.status == 401:
            return await to_signin(request, exc)
        lang = _language(request, None)
        status = 404 if exc.status in (403, 404) else exc.status
        message = text("error.not_found", lang) if status == 404 else exc.title
        return pages.render(request, "error.html", lang, http_status=status, message=message)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # --- dashboard and lists ---------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        counts = {}
        for status in ("not_invited", "inactive", "active"):
            page = await api.call(
                "clients", "GET", "/v1/clients", token=token, lang=lang,
                params={"status": status, "limit": 50},
            )  # fmt: skip
            counts[status] = (len(page["items"]), bool(page.get("next_cursor")))
        return pages.render(request, "dashboard.html", lang, caller=caller, counts=counts)

    async def _groups(token: str, lang: str) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = await api.call(
            "clients", "GET", "/v1/groups", token=token, lang=lang
        )
        return groups

    @app.get("/clients", response_class=HTMLResponse)
    async def client_list(request: Request) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        p = request.query_params
        view = p.get("view") if p.get("view") in VIEWS else "inactive"
        status = "active" if view == "active" else (p.get("status") or "not_invited")
        if view == "inactive" and status not in ("not_invited", "inactive"):
            status = "not_invited"
        params: dict[str, Any] = {"status": status, "limit": size}
        if view == "archived":  # archived clients of every status, and only they
            status = ""
            params = {"archived": "true", "limit": size}
        for name, key in (
            ("q", "q"),
            ("group", "group"),
            ("subscription_mode", "mode"),
            ("transfer_method", "transfer"),
            ("cursor", "cursor"),
        ):
            if p.get(key):
                params[name] = p[key]
        started = time.perf_counter()
        page = await api.call(
            "clients", "GET", "/v1/clients", token=token, lang=lang, params=params
        )
        took_ms = (time.perf_counter() - started) * 1000
        groups = await _groups(token, lang)
        return pages.render(
            request, "clients.html", lang, caller=caller, view=view, status=status,
            page=page, groups={g["group_id"]: g["name"] for g in groups}, query=p,
            done=p.get("done", ""), took_ms=took_ms,
        )  # fmt: skip

    async def _invitations_action(method: str, path: str, token: str, lang: str) -> None:
        """Invitations learns of a client from ClientCreated, a moment after clients lists it:
        a 404 is asked again for a few seconds before the person is told to try later."""
        deadline = time.monotonic() + NOT_YET_KNOWN_S
        while True:
            try:
                await api.call("invitations", method, path, token=token, lang=lang)
                return
            except ApiError as exc:
                if exc.status != 404 or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.5)

    @app.post("/clients/{client_id}/actions/{action}")
    async def client_action(request: Request, client_id: str, action: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        if action not in ACTIONS:
            raise ApiError(404)
        owner, method, path = ACTIONS[action]
        form = await request.form()
        back = str(form.get("back") or "/clients")
        back = back if back.startswith("/") and not back.startswith("//") else "/clients"
        sep = "&" if "?" in back else "?"
        try:
            if owner == "clients":
                # the person acts on the client as the list showed it; no version to compare
                await api.call(
                    "clients", method, path.format(id=q(client_id)), token=token, lang=lang,
                    headers={"if-match": "*"},
                )  # fmt: skip
            else:
                await _invitations_action(method, path.format(id=q(client_id)), token, lang)
        except ApiError as exc:
            if exc.status in (401, 403):
                raise
            # A 404 here: clients lists the client, invitations has not heard of it yet.
            error = text("action.not_ready", lang) if exc.status == 404 else exc.title
            return RedirectResponse(f"{back}{sep}{urlencode({'error': error})}", status_code=303)
        return RedirectResponse(f"{back}{sep}done={action}", status_code=303)

    # --- the client form -------------------------------------------------------------------

    async def _form_context(token: str, lang: str) -> dict[str, Any]:
        office = await api.call("clients", "GET", "/v1/settings", token=token, lang=lang)
        settings = office["settings"]
        enabled = [
            m.value for m in TransferMethod if m.value in set(settings["enabled_transfer_methods"])
        ]
        try:
            connections = await api.call(
                "delivery", "GET", "/v1/connections", token=token, lang=lang
            )
        except ApiError:
            connections = []
        softwares = settings.get("accounting_softwares") or [s.value for s in AccountingSoftware]
        return {
            "methods": enabled,
            "connections": connections,
            "software_options": [(s, s.replace("_", " ").title()) for s in softwares],
            "groups": await _groups(token, lang),
        }

    @app.get("/clients/new", response_class=HTMLResponse)
    async def new_client(request: Request) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        values = {
            "user.language": lang,
            "group_id": "everyone",
            "task_list.follow_mode": "registration",
        }
        context = await _form_context(token, lang)
        return pages.render(
            request, "client_form.html", lang, caller=caller, values=values, errors={},
            client_id=None, version=None, client_status="not_invited", **context,
        )  # fmt: skip

    @app.post("/clients/new", response_class=HTMLResponse)
    async def create_client(request: Request) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        form = await request.form()
        scalars, lists = _scalars(form), _lists(form)
        body = forms.client_body(scalars, lists)
        try:
            created = await api.call(
                "clients", "POST", "/v1/clients", token=token, lang=lang, json=body
            )
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            context = await _form_context(token, lang)
            return pages.render(
                request, "client_form.html", lang, http_status=422, caller=caller,
                values=forms.submitted(scalars, lists), errors=exc.field_errors(),
                problem=exc.title, client_id=None, version=None, client_status="not_invited", **context,
            )  # fmt: skip
        return _back("/clients", view="inactive", done="saved", focus=created["client_id"])

    @app.get("/clients/{client_id}/edit", response_class=HTMLResponse)
    async def edit_client(request: Request, client_id: str) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        client = await api.call(
            "clients", "GET", f"/v1/clients/{q(client_id)}", token=token, lang=lang
        )
        context = await _form_context(token, lang)
        return pages.render(
            request, "client_form.html", lang, caller=caller, values=forms.flatten(client),
            errors={}, client_id=client_id, version=client["version"], client_status=client["status"],
            **context,
        )  # fmt: skip

    @app.post("/clients/{client_id}/edit", response_class=HTMLResponse)
    async def update_client(request: Request, client_id: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        form = await request.form()
        scalars, lists = _scalars(form), _lists(form)
        version = scalars.get("version", "")
        try:
            await api.call(
                "clients", "PUT", f"/v1/clients/{q(client_id)}", token=token, lang=lang,
                json=forms.client_body(scalars, lists), headers={"if-match": f'"{version}"'},
            )  # fmt: skip
        except ApiError as exc:
            if exc.status not in (409, 412, 422):
                raise
            context = await _form_context(token, lang)
            return pages.render(
                request, "client_form.html", lang, http_status=exc.status, caller=caller,
                values=forms.submitted(scalars, lists), errors=exc.field_errors(),
                problem=exc.title, client_id=client_id, version=version,
                client_status=scalars.get("status", ""), **context,
            )  # fmt: skip
        return _back(f"/clients/{q(client_id)}/edit", done="saved")

    # --- documents and deliveries ----------------------------------------------------------

    @app.get("/clients/{client_id}/documents", response_class=HTMLResponse)
    async def documents(request: Request, client_id: str) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        client = await api.call(
            "clients", "GET", f"/v1/clients/{q(client_id)}", token=token, lang=lang
        )
        params: dict[str, Any] = {"client_id": client_id, "limit": 50}
        if request.query_params.get("cursor"):
            params["cursor"] = request.query_params["cursor"]
        page = await api.call(
            "delivery", "GET", "/v1/deliveries", token=token, lang=lang, params=params
        )
        return pages.render(
            request, "documents.html", lang, caller=caller, client=client, page=page,
            done=request.query_params.get("done", ""), error=request.query_params.get("error", ""),
        )  # fmt: skip

    @app.post("/clients/{client_id}/deliveries/{delivery_id}/retry")
    async def retry(request: Request, client_id: str, delivery_id: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        try:
            await api.call(
                "delivery", "POST", f"/v1/deliveries/{q(delivery_id)}/retry", token=token, lang=lang
            )
        except ApiError as exc:
            if exc.status in (401, 404):
                raise
            return _back(f"/clients/{q(client_id)}/documents", error=exc.title)
        return _back(f"/clients/{q(client_id)}/documents", done="retried")

    # --- bulk import -----------------------------------------------------------------------

    @app.get("/imports", response_class=HTMLResponse)
    async def imports(request: Request) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        recent = await api.call(
            "importer", "GET", "/v1/imports", token=token, lang=lang, params={"limit": 10}
        )
        return pages.render(
            request, "imports.html", lang, caller=caller, recent=recent["items"],
            error=request.query_params.get("error", ""),
        )  # fmt: skip

    @app.get("/imports/template")
    async def template(request: Request) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        answer = await api.call(
            "importer", "GET", "/v1/imports/template", token=token, lang=lang, raw=True
        )
        headers = {"content-disposition": answer.headers.get("content-disposition", "attachment")}
        return Response(
            answer.content, media_type=answer.headers.get("content-type"), headers=headers
        )

    @app.get("/imports/{import_id}/report.xlsx")
    async def report_xlsx(request: Request, import_id: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        path = f"/v1/imports/{q(import_id)}/report.xlsx"
        answer = await api.call("importer", "GET", path, token=token, lang=lang, raw=True)
        headers = {"content-disposition": answer.headers.get("content-disposition", "attachment")}
        return Response(
            answer.content, media_type=answer.headers.get("content-type"), headers=headers
        )

    async def _upload(request: Request, path: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        form = await request.form()
        upload = form.get("file")
        wants_json = "application/json" in request.headers.get("accept", "")
        if not isinstance(upload, UploadFile) or not upload.filename:
            if wants_json:
                return JSONResponse({"error": text("import.file", lang)}, status_code=422)
            return _back("/imports", error=text("import.file", lang))
        data = await upload.read()
        files = {"file": (upload.filename, data, upload.content_type or "application/octet-stream")}
        try:
            record = await api.call("importer", "POST", path, token=token, lang=lang, files=files)
        except ApiError as exc:
            if exc.status in (401, 404):
                raise
            if wants_json:
                return JSONResponse({"error": exc.title}, status_code=exc.status)
            return _back("/imports", error=exc.title)
        location = f"/imports/{q(record['id'])}"
        if wants_json:
            return JSONResponse({"location": location})
        return RedirectResponse(location, status_code=303)

    @app.post("/imports")
    async def upload(request: Request) -> Response:
        return await _upload(request, "/v1/imports")

    @app.post("/imports/{import_id}/versions")
    async def upload_version(request: Request, import_id: str) -> Response:
        return await _upload(request, f"/v1/imports/{q(import_id)}/versions")

    @app.get("/imports/{import_id}", response_class=HTMLResponse)
    async def import_report(request: Request, import_id: str) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        record = await api.call(
            "importer", "GET", f"/v1/imports/{q(import_id)}", token=token, lang=lang
        )
        by_row: dict[int, list[dict[str, Any]]] = {}
        for problem in record["report"]["errors"]:
            by_row.setdefault(int(problem.get("row") or 0), []).append(problem)
        return pages.render(
            request, "import_report.html", lang, caller=caller, record=record, by_row=by_row,
            error=request.query_params.get("error", ""), done=request.query_params.get("done", ""),
        )  # fmt: skip

    async def _row_change(
        request: Request, import_id: str, method: str, row: int, body: Any
    ) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        path = f"/v1/imports/{q(import_id)}/rows/{row}"
        try:
            await api.call("importer", method, path, token=token, lang=lang, json=body)
        except ApiError as exc:
            if exc.status in (401, 404):
                raise
            return _back(f"/imports/{q(import_id)}", error=exc.title)
        return _back(f"/imports/{q(import_id)}", done=f"row{row}")

    @app.post("/imports/{import_id}/rows/{row}/fix")
    async def fix_row(request: Request, import_id: str, row: int) -> Response:
        form = await request.form()
        cells = {
            str(k).removeprefix("cell:"): (str(v).strip() or None)
            for k, v in form.items()
            if str(k).startswith("cell:")
        }
        return await _row_change(request, import_id, "PATCH", row, {"cells": cells})

    @app.post("/imports/{import_id}/rows/{row}/delete")
    async def delete_row(request: Request, import_id: str, row: int) -> Response:
        return await _row_change(request, import_id, "DELETE", row, None)

    @app.post("/imports/{import_id}/confirm")
    async def confirm(request: Request, import_id: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        try:
            await api.call(
                "importer", "POST", f"/v1/imports/{q(import_id)}/confirm", token=token, lang=lang
            )
        except ApiError as exc:
            if exc.status in (401, 404):
                raise
            return _back(f"/imports/{q(import_id)}", error=exc.title)
        return _back(f"/imports/{q(import_id)}", done="confirmed")

    # --- general settings ------------------------------------------------------------------

    async def _settings_view(
        request: Request, http_status: int = 200, **extra: Any
    ) -> HTMLResponse:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        office = await api.call("clients", "GET", "/v1/settings", token=token, lang=lang)
        try:
            connections = await api.call(
                "delivery", "GET", "/v1/connections", token=token, lang=lang
            )
        except ApiError:
            connections = []
        profile = await api.call("clients", "GET", "/v1/office/profile", token=token, lang=lang)
        p = request.query_params
        return pages.render(
            request, "settings.html", lang, http_status=http_status, caller=caller, office=office,
            connections=connections, groups=await _groups(token, lang), profile=profile,
            methods=[m.value for m in TransferMethod], softwares=[s.value for s in AccountingSoftware],
            done=p.get("done", ""), error=p.get("error", ""), probe=p.get("probe", ""),
            host_key=p.get("host_key", ""), key_for=p.get("key_for", ""),
            admin=caller.role is Role.ADMIN, **extra,
        )  # fmt: skip

    @app.get("/settings", response_class=HTMLResponse)
    async def settings_page(request: Request) -> HTMLResponse:
        return await _settings_view(request)

    async def _settings_call(
        request: Request, service_name: str, method: str, path: str, **kw: Any
    ) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        try:
            await api.call(service_name, method, path, token=token, lang=lang, **kw)
        except ApiError as exc:
            if exc.status == 401:
                raise
            detail = "; ".join(exc.field_errors().values())
            return _back("/settings", error=f"{exc.title} {detail}".strip())
        return _back("/settings", done="saved")

    @app.post("/settings/general")
    async def save_general(request: Request) -> Response:
        form = await request.form()
        when = str(form.get("default_timing.when") or "after_processing")
        timing: dict[str, Any] = {"when": when}
        if when == "delayed":
            timing["delay_days"] = str(form.get("default_timing.delay_days") or "") or None
        body = {
            "enabled_transfer_methods": [str(m) for m in form.getlist("enabled_transfer_methods")],
            "default_timing": timing,
            "credit_card_statements": str(form.get("credit_card_statements") or "with_purchases"),
            "accounting_softwares": [str(s) for s in form.getlist("accounting_softwares")],
        }
        version = str(form.get("version") or "")
        return await _settings_call(
            request,
            "clients",
            "PUT",
            "/v1/settings",
            json=body,
            headers={"if-match": f'"{version}"'},
        )

    @app.post("/settings/connections", response_class=HTMLResponse)
    async def add_connection(request: Request) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        body = forms.connection_body(_scalars(await request.form()))
        try:
            created = await api.call(
                "delivery", "POST", "/v1/connections", token=token, lang=lang, json=body
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            detail = "; ".join(f"{k}: {v}" for k, v in exc.field_errors().items())
            return _back("/settings", error=f"{exc.title} {detail}".strip())
        if created.get("agent_key"):  # its token is shown this once: a page, not a redirect
            page = await _settings_view(
                request, issued=created["agent_key"], issued_for=body["name"]
            )
            page.headers["Cache-Control"] = "no-store"  # the token stays in no cache or history
            return page
        return _back("/settings", done="saved")

    @app.post("/settings/connections/{name}/test")
    async def test_connection(request: Request, name: str) -> Response:
        caller, token = await pages.caller(request)
        lang = _language(request, caller)
        try:
            probe = await api.call(
                "delivery", "POST", f"/v1/connections/{q(name)}/test", token=token, lang=lang
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            return _back("/settings", error=exc.title)
        outcome = (
            text("settings.test_ok", lang)
            if probe["ok"]
            else str(probe.get("message") or probe.get("code"))
        )
        # An sFTP server's key, shown for the admin to compare and accept (public, not a secret).
        shown = str(probe.get("host_key_shown") or "")
        return _back("/settings", probe=f"{name}: {outcome}", host_key=shown, key_for=name)

    @app.post("/settings/connections/{name}/delete")
    async def delete_connection(request: Request, name: str) -> Response:
        # Delivery refuses while clients deliver through it, saying how many (shown as is).
        return await _settings_call(
            request,
            "delivery",
            "DELETE",
            f"/v1/connections/{q(name)}",
            headers={"if-match": "*"},
        )

    @app.post("/settings/connections/{name}/host-key")
    async def trust_host_key(request: Request, name: str) -> Response:
        form = await request.form()
        return await _settings_call(
            request,
            "delivery",
            "POST",
            f"/v1/connections/{q(name)}/host-key",
            json={"host_key": str(form.get("host_key") or "")},
            headers={"if-match": "*"},
        )

    @app.post("/settings/groups")
    async def add_group(request: Request) -> Response:
        form = await request.form()
        return await _settings_call(
            request, "clients", "POST", "/v1/groups", json={"name": str(form.get("name") or "")}
        )

    @app.post("/settings/groups/{group_id}/staff")
    async def set_staff(request: Request, group_id: str) -> Response:
        form = await request.form()
        staff = [s.strip() for s in str(form.get("staff") or "").split(",") if s.strip()]
        version = str(form.get("version") or "")
        return await _settings_call(
            request, "clients", "PUT", f"/v1/groups/{q(group_id)}/staff",
            json={"user_ids": staff}, headers={"if-match": f'"{version}"'},
        )  # fmt: skip

    @app.post("/settings/office-profile")
    async def office_profile(request: Request) -> Response:
        """The office's name, languages (the default first) and e-mail sender name: owned by
        the clients service, which tells invitations and delivery."""
        form = await request.form()
        default = str(form.get("default_language") or "fr")
        others = [str(x) for x in form.getlist("languages") if str(x) != default]
        body = {
            "name": str(form.get("name") or ""),
            "languages": [default, *others],
            "sender_name": str(form.get("sender_name") or "") or None,
        }
        version = str(form.get("version") or "0")
        return await _settings_call(
            request, "clients", "PUT", "/v1/office/profile",
            json=body, headers={"if-match": f'"{version}"'},
        )  # fmt: skip

    # --- the client's onboarding (public: the link's token is the credential) ---------------

    from portal_portal.entrypoints.onboarding import install as install_onboarding

    install_onboarding(app, pages)
    return app
