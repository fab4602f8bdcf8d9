"""What a profile decides: identifiers, where the PDF goes, the ledger account, file names.

A profile is data, not code: the writer reads these fields, so a new accounting software is one
small module with one ``PROFILE`` and one registry line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
UBL_BE_CUSTOMIZATION = "urn:cen.eu:en16931:2017#conformant#urn:UBL.BE:1.0.0.20180214"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    customization_id: str = PEPPOL_CUSTOMIZATION
    profile_id: str = PEPPOL_PROCESS
    embed_pdf: bool = True  # the PDF as AdditionalDocumentReference inside the UBL
    pdf_beside: bool = False  # the PDF also delivered as its own file next to the UBL
    ledger_account: bool = False  # the sales ledger account per line, in cbc:AccountingCost
    ubl_be_references: bool = False  # UBL.BE: a "UBL.BE" reference + a described rendering
    # File name of the UBL (and of the PDF beside it); fields: number, kind, vat, date.
    filename_pattern: str = "{number}"
    # Peppol rules (PEPPOL-EN16931-R004) only hold for the Peppol customisation id.
    peppol_rules: bool = True

    def file_stem(self, *, number: str, kind: str, vat: str | None, issue_date: str) -> str:
        stem = self.filename_pattern.format(
            number=number, kind=kind, vat=vat or "novat", date=issue_date
        )
        return _UNSAFE.sub("_", stem).strip("._") or "document"

    def ubl_filename(self, **fields: str | None) -> str:
        return self.file_stem(**fields) + ".xml"  # type: ignore[arg-type]

    def pdf_filename(self, **fields: str | None) -> str:
        return self.file_stem(**fields) + ".pdf"  # type: ignore[arg-type]
