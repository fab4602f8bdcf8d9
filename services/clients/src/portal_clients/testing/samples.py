"""Valid client forms for tests and the benchmark (numbered, so each one is unique)."""

from __future__ import annotations

from typing import Any

VALID_IBAN = "BE68 5390 0754 7034"


def vat_number(n: int) -> str:
    """A Belgian VAT number with a correct mod-97 check, written the way people type it."""
    base = 2_000_000 + n  # 0 + 7 digits: a valid Belgian enterprise number shape
    digits = f"{base:08d}{97 - base % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def normalised_vat(n: int) -> str:
    return "BE" + vat_number(n).replace(".", "")


def client_form(n: int, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "company": {
            "vat_number": vat_number(n),
            "name": f"Bakkerij Peeters {n}",
            "vat_frequency": "quarterly",
            "internal_reference": f"REF-{n}",
            "subscription_mode": "full_follow_up",
        },
        "user": {
            "first_name": "Anne",
            "last_name": "Peeters",
            "email": f"  Info+Shop{n}@Example.be ",
            "mobile_phone": "0470 12 34 56",
            "language": "nl",
        },
        "bank_accounts": [VALID_IBAN],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(form.get(key), dict):
            form[key] = {**form[key], **value}
        else:
            form[key] = value
    return form
