"""The client list page shows why the register refused a client's VAT number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

import portal_portal
from portal_portal.i18n import LANGUAGES, TEXTS, text

TEMPLATES = Path(portal_portal.__file__).parent / "templates"


class _Request:
    """What base.html reads of the request."""

    def __init__(self) -> None:
        self.url = type("Url", (), {"path": "/clients"})()
        self.query_params: dict[str, str] = {}
        self.cookies: dict[str, str] = {}


def _row(**fields: Any) -> dict[str, Any]:
    return {
        "client_id": "c1",
        "company_name": "VZW De Buurt",
        "vat_number": "BE0403170701",
        "internal_reference": None,
        "first_name": "Anne",
        "last_name": "Peeters",
        "email": "anne@example.be",
        "status": "not_invited",
        "group_id": "everyone",
        "subscription_mode": "full_follow_up",
        "transfer_method": "manual",
        "vat_check": "valid",
        "actions": [],
        **fields,
    }


def _page(lang: str, *rows: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    env.globals["LANGUAGES"] = LANGUAGES

    def t(key: str, **params: str) -> str:
        return text(key, lang, **params)

    return env.get_template("clients.html").render(
        t=t,
        lang=lang,
        request=_Request(),
        settings=None,
        caller=None,
        view="inactive",
        status="not_invited",
        page={"items": list(rows), "next_cursor": None},
        groups={"everyone": "Everyone"},
        query={},
        done="",
        took_ms=1.0,
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_refused_vat_number_is_flagged_with_its_reason(lang: str) -> None:
    html = _page(
        lang,
        _row(
            vat_check="invalid",
            vat_check_reason="vat.company_stopped",
            vat_check_detail="stopped (juridical situation 012: bankruptcy)",
        ),
    )
    label = TEXTS["vatcheck.vat.company_stopped"][LANGUAGES.index(lang)]
    assert f"{label} (stopped (juridical situation 012: bankruptcy))" in html
    assert 'data-vat-check="invalid"' in html


def test_a_valid_or_pending_number_is_not_flagged() -> None:
    html = _page("en", _row(), _row(client_id="c2", vat_check="pending"))
    assert 'data-vat-check="invalid"' not in html


def test_a_refusal_without_a_reason_reads_as_unknown_to_the_register() -> None:
    html = _page("nl", _row(vat_check="invalid"))
    assert "Btw-nummer onbekend in het register (KBO/VIES)" in html
