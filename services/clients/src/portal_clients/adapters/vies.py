"""The EU VIES register over its REST API: ``POST {base}/check-vat-number``.

Request ``{"countryCode": "BE", "vatNumber": "0403170701"}``; answer ``{"valid": true, "name":
..., "address": ...}``, or ``{"actionSucceed": false, "errorWrappers": [{"error":
"MS_UNAVAILABLE"}]}`` when a member state's register is down. Anything but a clear yes or no
(timeouts, 5xx, a 404 or other 4xx, error wrappers, a body of another shape) is UNAVAILABLE:
the client is kept with ``vat_check: pending`` and checked again later; it is never read as
valid, nor as invalid.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from portal_clients.domain.vat import RefusalReason, RegisterAnswer, RegisterVerdict

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://ec.europa.eu/taxation_customs/vies/rest-api"
_INVALID_INPUT = {"INVALID_INPUT"}


class ViesRegister:
    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, timeout_s: float = 5.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s))

    async def check(self, vat_number: str) -> RegisterAnswer:
        country, number = vat_number[:2], vat_number[2:]
        try:
            response = await self._client.post(
                f"{self.endpoint}/check-vat-number",
                json={"countryCode": country, "vatNumber": number},
            )
        except httpx.HTTPError as exc:
            logger.warning("VIES unreachable for %s: %r", country, exc)
            return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail=type(exc).__name__)
        if response.status_code >= 500 or response.status_code == 429:
            return RegisterAnswer(
                RegisterVerdict.UNAVAILABLE, detail=f"http {response.status_code}"
            )
        try:
            body: Any = response.json()
        except ValueError:
            return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="not json")
        return _verdict(response.status_code, body)

    async def aclose(self) -> None:
        await self._client.aclose()


def _verdict(status: int, body: Any) -> RegisterAnswer:
    """Only a clear no is INVALID: ``valid: false`` in a 2xx answer, or VIES's INVALID_INPUT.
    A 404 (the endpoint moved), another 4xx, or a body of another shape says nothing about the
    number: "unknown, ask again later"."""
    wrappers = body.get("errorWrappers") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(wrappers, list | None):
        return RegisterAnswer(
            RegisterVerdict.UNAVAILABLE, detail=f"malformed answer (http {status})"
        )
    errors = [str(w.get("error", "")) if isinstance(w, dict) else "" for w in wrappers or []]
    if any(e in _INVALID_INPUT for e in errors):
        return RegisterAnswer(
            RegisterVerdict.INVALID, detail=",".join(errors), reason=RefusalReason.VIES_INVALID
        )
    if errors or status >= 300:
        return RegisterAnswer(
            RegisterVerdict.UNAVAILABLE, detail=",".join(errors) or f"http {status}"
        )
    valid = body.get("valid") if "valid" in body else body.get("isValid")
    if valid is True:
        return RegisterAnswer(
            RegisterVerdict.VALID, name=_text(body.get("name")), address=_text(body.get("address"))
        )
    if valid is False:
        return RegisterAnswer(RegisterVerdict.INVALID, reason=RefusalReason.VIES_INVALID)
    return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="no verdict")


def _text(value: Any) -> str | None:
    # VIES answers "---" when a member state does not disclose the name or address.
    if not isinstance(value, str) or value.strip() in {"", "---"}:
        return None
    return value.strip()


class SkippedRegister:
    """No register configured: every check is pending (never valid)."""

    async def check(self, vat_number: str) -> RegisterAnswer:
        return RegisterAnswer(RegisterVerdict.UNAVAILABLE, detail="no register configured")
