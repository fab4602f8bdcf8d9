"""Expert/M Plus (Wolters Kluwer).

Sources: support.robaws.be "Hoe werkt de Expert/M integratie" (Configuratie Kluwer Exchange >
Configuratie UBL Import; the wizard remembers a GL account per supplier + article, so the
seller's item id matters), help.eenvoudigfactureren.be "Wolters Kluwer Expert/M" (UBL files put
in Expert/M's import folder). So: Peppol BIS 3 with the PDF embedded, ledger account per line,
files named ``<VAT>_<number>.xml``.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="expert-m", ledger_account=True, filename_pattern="{vat}_{number}")
