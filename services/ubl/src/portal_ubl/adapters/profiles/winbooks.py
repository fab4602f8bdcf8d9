"""WinBooks (Classic, on Web, Virtual Invoice).

Sources: help.winbooks.be, "Export UBL" (Logistics) and Virtual Invoice pages: WinBooks itself
sends two files per invoice, "un fichier PDF de la facture et un fichier XML représentant le
format UBL (qui contient lui-même le fichier PDF)", and its import (Virtual Invoice / the
WinBooks platform) recognises the customer or supplier by VAT number and proposes the general
account. So: Peppol BIS 3, PDF embedded *and* delivered beside under the same stem, ledger
account per line.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(
    name="winbooks", pdf_beside=True, ledger_account=True, filename_pattern="{number}"
)
