"""Exact Online (Belgium and the Netherlands).

Sources: Exact Online's own help and third-party guides (invoicenavigator.eu "UBL 2.1 in Exact
Online"; invoicedataextraction.com "How to import invoices into Exact Online") describe UBL 2.1 /
Peppol BIS 3 as the structured route in, with the PDF alongside or embedded, and booking on the
supplier's default general-ledger account unless a line account is proposed. So: Peppol BIS 3,
PDF embedded, ledger account per line, files named ``<VAT>_<number>.xml`` so that documents of
several clients dropped in one mailbox never collide.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="exact-online", ledger_account=True, filename_pattern="{vat}_{number}")
