"""RFC 9457 problem+json, with messages in the caller's language.

The domain raises small named exceptions; each service maps them to :class:`ProblemError` in one
place. Messages are looked up by stable code in a catalogue (``{code: {lang: text}}``); services
register their own codes with :func:`register_messages`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

PROBLEM_JSON = "application/problem+json"
KiB = 1024
MiB = 1024 * KiB

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
    "auth.unavailable": {
        "fr": "Le service d'identité ne répond pas ; réessayez dans un instant.",
        "nl": "De identiteitsdienst antwoordt niet; probeer zo meteen opnieuw.",
        "en": "The identity service does not answer; try again in a moment.",
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
    "body.too_large": {
        "fr": "La requête est trop volumineuse pour cette adresse : {size_fr} au plus.",
        "nl": "Het verzoek is te groot voor dit adres: hoogstens {size}.",
        "en": "The request is too large for this address: {size} at most.",
    },
    "form.field_too_large": {
        "fr": "Un champ du formulaire est trop volumineux : {size_fr} au plus.",
        "nl": "Een veld van het formulier is te groot: hoogstens {size}.",
        "en": "A field of the form is too large: {size} at most.",
    },
    "form.too_many_parts": {
        "fr": "Le formulaire compte trop de champs ou de fichiers.",
        "nl": "Het formulier bevat te veel velden of bestanden.",
        "en": "The form has too many fields or files.",
    },
    "multipart.header_too_long": {
        "fr": "Un nom de fichier (ou un autre en-tête du formulaire) est trop long : 4 000 caractères au plus.",
        "nl": "Een bestandsnaam (of een andere header van het formulier) is te lang: hoogstens 4.000 tekens.",
        "en": "A file name (or another header of the form) is too long: 4,000 characters at most.",
    },
    "multipart.invalid": {
        "fr": "Le formulaire envoyé (multipart) est mal formé.",
        "nl": "Het verzonden formulier (multipart) is misvormd.",
        "en": "The form sent (multipart) is malformed.",
    },
    "json.not_utf8": {
        "fr": "Le corps de la requête n'est pas du texte UTF-8 valide.",
        "nl": "De inhoud van het verzoek is geen geldige UTF-8-tekst.",
        "en": "The request body is not valid UTF-8 text.",
    },
    "json.invalid": {
        "fr": "Le corps de la requête n'est pas du JSON valide (au caractère {position}).",
        "nl": "De inhoud van het verzoek is geen geldige JSON (bij teken {position}).",
        "en": "The request body is not valid JSON (at character {position}).",
    },
    "json.too_deep": {
        "fr": "Le JSON est imbriqué trop profondément : {max_depth} niveaux au plus.",
        "nl": "De JSON is te diep genest: hoogstens {max_depth} niveaus.",
        "en": "The JSON is nested too deeply: {max_depth} levels at most.",
    },
    "json.number_too_long": {
        "fr": "Un nombre du JSON a trop de chiffres : {max_digits} au plus.",
        "nl": "Een getal in de JSON heeft te veel cijfers: hoogstens {max_digits}.",
        "en": "A number in the JSON has too many digits: {max_digits} at most.",
    },
    "method.not_allowed": {
        "fr": "Cette adresse n'accepte pas cette méthode ; méthodes acceptées : {allowed}.",
        "nl": "Dit adres aanvaardt deze methode niet; aanvaarde methodes: {allowed}.",
        "en": "This address does not take this method; methods it takes: {allowed}.",
    },
    "request.invalid": {
        "fr": "La requête est invalide ou illisible.",
        "nl": "Het verzoek is ongeldig of onleesbaar.",
        "en": "The request is invalid or unreadable.",
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


def size_params(size: int) -> dict[str, str]:
    """``{size}`` (KB/MB) and ``{size_fr}`` (Ko/Mo) for a message, in binary units."""
    if size >= MiB:
        amount = f"{size // MiB}" if size % MiB == 0 else f"{size / MiB:.1f}"
        return {"size": f"{amount} MB", "size_fr": f"{amount.replace('.', ',')} Mo"}
    return {"size": f"{size // KiB} KB", "size_fr": f"{size // KiB} Ko"}


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when the body passes its bound; rendered 413 ``body.too_large``."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail="Content Too Large")
        self.limit = limit

    def problem(self) -> ProblemError:
        return ProblemError(413, "body.too_large", params=size_params(self.limit))


_PART_SIZE = re.compile(r"maximum size of (\d+)KB")


def _form_problem(exc: MultiPartException) -> ProblemError:
    """What Starlette's form parser refused (it says so only in English prose)."""
    text = exc.message
    if size := _PART_SIZE.search(text):
        return ProblemError(413, "form.field_too_large", params=size_params(int(size[1]) * 1024))
    if text.startswith("Too many"):
        return ProblemError(413, "form.too_many_parts")
    if "header size" in str(exc.__cause__):  # python-multipart: a header line over 4 KB
        return ProblemError(400, "multipart.header_too_long")
    return ProblemError(400, "multipart.invalid")


def http_problem(exc: StarletteHTTPException) -> ProblemError:
    """The problem of an HTTP error Starlette or FastAPI raised: a client's mistake has its own
    code, only a server's failure is ``internal``."""
    if isinstance(exc, BodyTooLarge):
        return exc.problem()
    status, headers = exc.status_code, dict(exc.headers or {})
    if status == 405:
        allowed = headers.get("Allow", headers.get("allow", ""))
        return ProblemError(405, "method.not_allowed", params={"allowed": allowed}, headers=headers)
    if status == 400 and isinstance(exc.__context__, MultiPartException):
        return _form_problem(exc.__context__)
    code = {404: "not_found", 403: "forbidden", 413: "payload.too_large"}.get(status)
    if code is None:
        code = "request.invalid" if 400 <= status < 500 else "internal"
    return ProblemError(status, code, headers=headers)


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
        return problem_response(request, http_problem(exc))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
