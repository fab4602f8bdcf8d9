"""The caller of an HTTP request, from the gateway's bearer JWT (verified with the configured key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from portal_contracts.identity import Caller, InvalidToken, verify_token
from portal_contracts.values import Language
from portal_servicekit.problems import ProblemError

_CODES = {lang.value for lang in Language}
_CHALLENGE = {"WWW-Authenticate": "Bearer"}  # RFC 9110 §11.6.1: a 401 names its scheme


def request_language(request: Request) -> Language:
    """The language a person reads: the ``lang`` query, then Accept-Language (the portal sends the
    user's choice there), then the token's ``lang`` claim, then French."""
    query = request.query_params.get("lang")
    if query in _CODES:
        return Language(query)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in _CODES:
            return Language(code)
    claim = getattr(request.state, "language", None)
    return Language(claim) if claim in _CODES else Language.FR


def caller_from_authorization(header: str, key: str) -> Caller:
    """The caller an ``Authorization: Bearer <jwt>`` header names, or 401 ``auth.missing`` /
    ``auth.invalid`` (the edge refuses with it before any body is read)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "auth.missing", headers=_CHALLENGE)
    try:
        return verify_token(token, key)
    except InvalidToken as exc:
        raise ProblemError(401, "auth.invalid", headers=_CHALLENGE) from exc


def current_caller(request: Request) -> Caller:
    caller = caller_from_authorization(
        request.headers.get("authorization", ""), request.app.state.jwt_key
    )
    request.state.language = caller.language.value
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
CallerLanguage = Annotated[Language, Depends(request_language)]
