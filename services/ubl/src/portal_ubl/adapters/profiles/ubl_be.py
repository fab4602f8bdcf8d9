"""UBL.BE, the Belgian accounting-import customisation of EN 16931 (successor of e-fff).

Sources: the UBL.BE rule set as published on Maven Central in ``phive-rules-ublbe`` (not in the
pinned copy under ``shared/peppol-rules``; read from public re-implementations of its rules).
What it asks on top of EN 16931, and what this profile does:

- customization id ``urn:cen.eu:en16931:2017#conformant#urn:UBL.BE:1.0.0.20180214`` with the
  Peppol billing process id; Peppol's PEPPOL-EN16931-R004 therefore does not apply;
- ubl-BE-01..04: at least two AdditionalDocumentReference, one with ID ``UBL.BE`` whose
  description names the producing software, one rendering (the PDF) described as
  ``CommercialInvoice`` or ``CreditNote``, and every reference described;
- ubl-BE-10..12: Belgian tax-category names (BTCC) and BETE exemption codes instead of VATEX. We
  write neither names nor BETE codes yet (open point: the exact BTCC list could not be checked
  offline); VATEX codes are left out of this profile so ubl-BE-11 cannot fire, the text remains.
- the sales ledger account of each sales-invoice line in ``cbc:AccountingCost`` (BT-133), which
  Belgian import wizards read as the booking account proposal.
"""

from portal_ubl.adapters.profiles.base import UBL_BE_CUSTOMIZATION, Profile

PROFILE = Profile(
    name="ubl-be",
    customization_id=UBL_BE_CUSTOMIZATION,
    ubl_be_references=True,
    ledger_account=True,
    peppol_rules=False,
)
