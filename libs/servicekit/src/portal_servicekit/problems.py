"""RFC 9457 problem+json, with messages in the caller's language.

The domain raises small named exceptions; each service maps them to :class:`ProblemError` in one
place. Messages are looked up by stable code in a catalogue (``{code: {lang: text}}``); services
register their own codes with :func:`register_messages`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

Catalogue = Mapping[str, Mapping[str, str]]

_MESSAGES: dict[str, dict[str, str]] = {
    "auth.missing": {
        "fr": "Authentification requise.",
        "nl": "Authenticatie vereist.",
        "en": "Authentication required.",
    },
    "auth.invalid": {
        "fr": "Jeton d'accès invalide ou expiré.",
        "nl": "Ongeldig of verlopen toegangstoken.",
        "en": "Invalid or expired access token.",
    },
    "not_found": {"fr": "Introuvable.", "nl": "Niet gevonden.", "en": "Not found."},
    "forbidden": {
        "fr": "Action non autorisée.",
        "nl": "Actie niet toegestaan.",
        "en": "Action not allowed.",
    },
    "validation": {
        "fr": "Certaines données sont invalides.",
        "nl": "Sommige gegevens zijn ongeldig.",
        "en": "Some data is invalid.",
    },
    "field.required": {
        "fr": "Ce champ est obligatoire.",
        "nl": "Dit veld is verplicht.",
        "en": "This field is required.",
    },
    "field.invalid": {"fr": "Valeur invalide.", "nl": "Ongeldige waarde.", "en": "Invalid value."},
    "field.choice": {
        "fr": "Valeur non reconnue ; choisissez parmi : {choices}.",
        "nl": "Onbekende waarde; kies uit: {choices}.",
        "en": "Unknown value; choose one of: {choices}.",
    },
    "field.unknown": {"fr": "Champ inconnu.", "nl": "Onbekend veld.", "en": "Unknown field."},
    "precondition.failed": {
        "fr": "Les données ont changé entre-temps ; rechargez-les puis réessayez.",
        "nl": "De gegevens zijn intussen gewijzigd; laad ze opnieuw en probeer nogmaals.",
        "en": "The data changed meanwhile; reload it and try again.",
    },
    "precondition.required": {
        "fr": "En-tête If-Match requis (version attendue).",
        "nl": "If-Match-header vereist (verwachte versie).",
        "en": "If-Match header required (the expected version).",
    },
    "payload.too_large": {
        "fr": "Fichier trop volumineux.",
        "nl": "Bestand te groot.",
        "en": "File too large.",
    },
    "internal": {
        "fr": "Erreur interne ; réessayez plus tard.",
        "nl": "Interne fout; probeer later opnieuw.",
        "en": "Internal error; try again later.",
    },
}


def register_messages(catalogue: Catalogue) -> None:
    for code, texts in catalogue.items():
        _MESSAGES[code] = dict(texts)


def message(code: str, language: str, **params: Any) -> str:
    texts = _MESSAGES.get(code)
    if texts is None:
        return code
    text = texts.get(language) or texts.get("en") or next(iter(texts.values()))
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError):
        return text


class FieldProblem(BaseModel):
    field: str
    code: str
    message: str = ""


class ProblemError(Exception):
    """Raised anywhere in an HTTP request; rendered as problem+json in the caller's language."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        fields: list[FieldProblem] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.fields = fields or []
        self.params = dict(params or {})
        self.headers = dict(headers or {})


def _language(request: Request) -> str:
    from portal_servicekit.identity import request_language

    return request_language(request).value


def problem_response(request: Request, error: ProblemError) -> JSONResponse:
    lang = _language(request)
    body: dict[str, Any] = {
        "type": f"https://errors.accountant-portal.be/{error.code}",
        "title": message(error.code, lang, **error.params),
        "status": error.status,
        "code": error.code,
        "instance": request.url.path,
    }
    if error.fields:
        body["errors"] = [
            {
                "field": f.field,
                "code": f.code,
                "message": f.message or message(f.code, lang, **error.params),
            }
            for f in error.fields
        ]
    return JSONResponse(
        body, status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_problem(exc: RequestValidationError) -> ProblemError:
    fields: list[FieldProblem] = []
    for err in exc.errors():
        kind = err.get("type", "")
        msg = str(err.get("msg", ""))
        if kind == "missing":
            code = "field.required"
        elif kind in {"enum", "literal_error"}:
            code = "field.choice"
        elif kind == "extra_forbidden":
            code = "field.unknown"
        elif kind == "value_error" and msg.startswith("Value error, "):
            code = msg.removeprefix("Value error, ")  # our normalisers raise stable codes
        else:
            code = "field.invalid"
        ctx = err.get("ctx") or {}
        fields.append(
            FieldProblem(
                field=_field_path(tuple(err.get("loc", ()))),
                code=code,
                message="" if code in _MESSAGES else msg,
            )
        )
        if code == "field.choice" and "expected" in ctx:
            return ProblemError(
                422, "validation", fields=fields, params={"choices": ctx["expected"]}
            )
    return ProblemError(422, "validation", fields=fields)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, ProblemError):
            raise exc
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            raise exc
        return problem_response(request, _validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):
            raise exc
        code = {404: "not_found", 403: "forbidden", 413: "payload.too_large"}.get(
            exc.status_code, "internal"
        )
        return problem_response(request, ProblemError(exc.status_code, code))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
