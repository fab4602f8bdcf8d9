"""App-only access to Microsoft Graph for one office connection: the OAuth 2.0 client-credentials
grant (RFC 6749 §4.4) with a client secret, or with a certificate (a signed client assertion,
RFC 7523, as MSAL makes it: PS256, ``x5t#S256`` header, audience = the token endpoint).

It is msgraph-sdk's :class:`AccessTokenProvider`, so the SDK's bearer provider asks it for a
token per request, and it answers only for the Graph host (``AllowedHostsValidator``): the token
never goes to an upload session's ``uploadUrl`` or anywhere else. Tokens are kept until five
minutes before they expire (one per connection and process).

Why not azure-identity: its async credentials insist on an ``https`` authority (a local fake of
the token endpoint cannot be reached) and on aiohttp; the grant is one form POST.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator

from portal_delivery.domain.delivery import ChannelError, Problem

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Entra ID's answers that mean "this tenant has not consented to the app" (AADSTS codes).
NO_CONSENT = ("AADSTS700016", "AADSTS65001", "AADSTS7000112", "AADSTS500011")


def client_assertion(pem: str, client_id: str, audience: str) -> str:
    """A short-lived JWT signed with the connection's private key (its certificate's SHA-256
    thumbprint in the header, so Entra ID knows which registered certificate to check)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    certificate = x509.load_pem_x509_certificate(pem.encode())
    thumbprint = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA256())).rstrip(b"=")
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(
        claims,
        key,  # type: ignore[arg-type]
        algorithm="PS256",
        headers={"x5t#S256": thumbprint.decode()},
    )


class ClientCredentials(AccessTokenProvider):
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        login_url: str,
        graph_url: str,
        tenant_id: str,
        client_id: str,
        client_secret: str = "",
        certificate: str = "",
    ) -> None:
        self._http = http
        self._endpoint = f"{login_url.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self._client_id = client_id
        self._secret = client_secret
        self._certificate = certificate
        self._hosts = AllowedHostsValidator([urlparse(graph_url).hostname or ""])
        self._token = ""
        self._until = 0.0
        self._lock = asyncio.Lock()

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts

    async def get_authorization_token(
        self,
        uri: str,
        additional_authentication_context: dict[str, Any] = {},  # noqa: B006 - kiota's signature
    ) -> str:
        if not self._hosts.is_url_host_valid(uri):
            return ""  # not Graph: no Authorization header at all
        return await self.token()

    def forget(self) -> None:
        """Graph refused the token (401): get a new one on the next request."""
        self._token, self._until = "", 0.0

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._until:
                return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "scope": GRAPH_SCOPE,
            }
            if self._certificate:
                form["client_assertion_type"] = (
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                )
                form["client_assertion"] = client_assertion(
                    self._certificate, self._client_id, self._endpoint
                )
            else:
                form["client_secret"] = self._secret
            try:
                answer = await self._http.post(self._endpoint, data=form)
            except httpx.HTTPError as exc:
                raise ChannelError(Problem("onedrive.unreachable", type(exc).__name__)) from exc
            if answer.status_code != 200:
                raise ChannelError(_refused(answer))
            body = answer.json()
            self._token = str(body["access_token"])
            self._until = time.monotonic() + float(body.get("expires_in", 3599)) - 300
            return self._token


def _refused(answer: httpx.Response) -> Problem:
    """The token endpoint's refusal in the ledger's terms (its words kept, never the form)."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    error = str(body.get("error", ""))
    description = str(body.get("error_description", "")).split("\r\n")[0][:200]
    if answer.status_code >= 500 or answer.status_code == 429:
        return Problem("onedrive.unreachable", f"{answer.status_code} {error}")
    if any(code in description for code in NO_CONSENT):
        return Problem("onedrive.consent_missing", description, retryable=False)
    return Problem("onedrive.credentials_refused", f"{error}: {description}", retryable=False)
