"""Adsolut (Wolters Kluwer).

Sources: billit.be "Adsolut UBL import": Adsolut reads UBL e-invoices from the folder named in
its ``EFFFPATH`` setting (an e-fff heritage), per dossier; wiversoft.be describes Adsolut XML
exports booking lines on per-rate or per-article-group accounts. So: Peppol BIS 3 with the PDF
embedded, ledger account per line, seller item ids kept, files named ``<VAT>_<number>.xml`` as
they land in a shared import folder.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="adsolut", ledger_account=True, filename_pattern="{vat}_{number}")
