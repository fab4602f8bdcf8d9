"""The profile registry and what each profile changes in the file."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from portal_contracts.values import AccountingSoftware, DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.profiles.registry import get_profile, names, profile_for_software
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.domain.errors import UnknownProfile
from portal_ubl.samples import make_pdf, sample_data

CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def _build(profile: str) -> tuple[etree._Element, str | None, str | None]:
    data = sample_data(lines=2)
    data["lines"][0]["ledger_account"] = "700000"
    cmd = SubmitDocument(
        "o",
        "c",
        DocumentKind.SALES_INVOICE,
        pdf=make_pdf(),
        data=json.dumps(data).encode(),
        profile=profile,
    )
    converted = convert(cmd, None)
    assert converted.ubl is not None
    return etree.fromstring(converted.ubl), converted.ubl_filename, converted.pdf_filename


def test_every_registered_profile_loads_with_a_docstring_naming_sources() -> None:
    import importlib

    assert {
        "peppol-bis3",
        "ubl-be",
        "exact-online",
        "winbooks",
        "octopus",
        "yuki",
        "clearfacts",
        "adsolut",
        "expert-m",
    } <= set(names())
    for name in names():
        profile = get_profile(name)
        assert profile.name == name
        module = importlib.import_module(type(profile).__module__)
        assert module is not None
        doc = (
            importlib.import_module(
                f"portal_ubl.adapters.profiles.{name.replace('-', '_')}"
            ).__doc__
            or ""
        )
        assert "Source" in doc


def test_unknown_profile_name_is_an_error_and_unknown_software_the_default() -> None:
    with pytest.raises(UnknownProfile):
        get_profile("sage-bob")
    assert profile_for_software(AccountingSoftware.BASECONE).name == "peppol-bis3"
    assert profile_for_software("not-a-software").name == "peppol-bis3"
    assert profile_for_software(None).name == "peppol-bis3"
    assert profile_for_software(AccountingSoftware.WINBOOKS).name == "winbooks"


def test_ledger_account_only_where_the_profile_wants_it() -> None:
    peppol, _, _ = _build("peppol-bis3")
    assert peppol.find(f".//{CAC}InvoiceLine/{CBC}AccountingCost") is None
    octopus, _, _ = _build("octopus")
    assert octopus.findtext(f".//{CAC}InvoiceLine/{CBC}AccountingCost") == "700000"


def test_ubl_be_has_its_references() -> None:
    root, _, _ = _build("ubl-be")
    assert root.findtext(CBC + "CustomizationID") == (
        "urn:cen.eu:en16931:2017#conformant#urn:UBL.BE:1.0.0.20180214"
    )
    refs = root.findall(CAC + "AdditionalDocumentReference")
    assert next(r.findtext(CBC + "ID") for r in refs) == "UBL.BE"
    assert refs[1].findtext(CBC + "DocumentDescription") == "CommercialInvoice"
    assert all(r.findtext(CBC + "DocumentDescription") for r in refs)
    assert root.find(f".//{CBC}TaxExemptionReasonCode") is None


def test_file_names_follow_the_profile() -> None:
    _, ubl, pdf = _build("exact-online")
    assert (ubl, pdf) == ("BE0403170701_F-2026-0001.xml", "BE0403170701_F-2026-0001.pdf")
    _, ubl, _ = _build("yuki")
    assert ubl == "F-2026-0001.xml"
    assert get_profile("winbooks").pdf_beside
