"""Octopus (octopus.be).

Sources: octopus.be "E-facturatie" and FAQ pages, okioki.be "How OkiOki integrates with
Octopus": documents arrive as UBL by e-mail at the dossier's address (a suffix such as ``-PI``
files them in a sub-folder of the Document Import Viewer), Octopus "reads the VAT codes
automatically from the UBL file", and Peppol ids are ``0208:<enterprise number>``. So: Peppol
BIS 3 with the PDF embedded (one attachment per mail), enterprise-number endpoints, ledger
account per line, files named after the invoice number.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="octopus", ledger_account=True)
