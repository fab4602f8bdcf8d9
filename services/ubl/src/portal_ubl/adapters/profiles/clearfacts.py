"""ClearFacts (pre-accounting platform feeding WinBooks, Adsolut, Expert/M, Sage BOB...).

Sources: docs.recommand.eu "ClearFacts integration" ("the UBL XML is always included as an
attachment, which is what ClearFacts needs"), SimplyBooks help ("sent as an electronic invoice
(e-fff format), and it also includes the printed invoice as a PDF"), the ClearFacts developer
docs (GraphQL API, per-administration purchase/sales mailboxes). So: Peppol BIS 3 with the PDF
embedded, ledger account per line (passed on to the package behind ClearFacts), files named
``<VAT>_<number>.xml``.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="clearfacts", ledger_account=True, filename_pattern="{vat}_{number}")
