"""The caller of an HTTP request, from its bearer JWT (verified by the app's
:class:`~portal_servicekit.tokens.TokenVerifier`: the identity provider's JWKS, or the local
development key). The edge verifies first and leaves the caller in the request's state, with the
staff member's groups resolved from the clients service's records
(:mod:`portal_servicekit.staff_groups`); :data:`CurrentCaller` reads it from there."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from portal_contracts.identity import Caller, InvalidToken
from portal_contracts.values import Language
from portal_servicekit.problems import ProblemError
from portal_servicekit.tokens import IdentityUnavailable, LocalKeyVerifier, TokenVerifier

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


def bearer_token(header: str) -> str:
    """The token of an ``Authorization: Bearer <jwt>`` header, or 401 ``auth.missing``."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(401, "auth.missing", headers=_CHALLENGE)
    return token.strip()


def _refused(exc: Exception) -> ProblemError:
    if isinstance(exc, IdentityUnavailable):
        return ProblemError(503, "auth.unavailable", headers={"Retry-After": "5"})
    return ProblemError(401, "auth.invalid", headers=_CHALLENGE)


def caller_from_authorization(header: str, key: str | TokenVerifier) -> Caller:
    """The caller an ``Authorization: Bearer <jwt>`` header names, or 401 ``auth.missing`` /
    ``auth.invalid`` (503 ``auth.unavailable`` when the provider's keys cannot be had)."""
    token = bearer_token(header)
    verifier = LocalKeyVerifier(key) if isinstance(key, str) else key
    try:
        return verifier.verify(token)
    except (InvalidToken, IdentityUnavailable) as exc:
        raise _refused(exc) from exc


async def verified_caller(header: str, verifier: TokenVerifier) -> Caller:
    """:func:`caller_from_authorization` without blocking the loop on a key fetch."""
    token = bearer_token(header)
    try:
        return await verifier.averify(token)
    except (InvalidToken, IdentityUnavailable) as exc:
        raise _refused(exc) from exc


def current_caller(request: Request) -> Caller:
    verified = getattr(request.state, "caller", None)
    if isinstance(verified, Caller):  # the edge verified it (and resolved its groups)
        return verified
    verifier = getattr(request.app.state, "token_verifier", None) or request.app.state.jwt_key
    caller = caller_from_authorization(request.headers.get("authorization", ""), verifier)
    request.state.language = caller.language.value
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
CallerLanguage = Annotated[Language, Depends(request_language)]
