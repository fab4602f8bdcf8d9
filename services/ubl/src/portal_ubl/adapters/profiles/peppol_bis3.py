"""Peppol BIS Billing 3.0, the default profile.

Source: OpenPeppol BIS Billing 3.0 (docs.peppol.eu/poacc/billing/3.0), release 2026.5 as pinned in
``shared/peppol-rules``. Customization ``urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:
poacc:billing:3.0``, process ``urn:fdc:peppol.eu:2017:poacc:billing:01:1.0``. The PDF travels
inside as an AdditionalDocumentReference (BG-24, mime code ``application/pdf``), which every
Belgian package we looked at extracts. No ledger account: BT-133 is the *buyer's* accounting
reference and a software that does not ask for it may show it to the wrong party.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="peppol-bis3")
