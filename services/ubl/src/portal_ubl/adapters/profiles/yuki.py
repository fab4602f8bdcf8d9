"""Yuki (Visma).

Sources: support.yuki.be "UBL beschrijving" and support.yuki.nl "UBL (Universal Business
Language)": Yuki takes "UBL facturen met een embedded PDF" (the PDF is extracted and shown) or
UBL and PDF as separate attachments, merged "indien de bestandsnamen overeenkomen". Yuki's own
recognition (IDR+) chooses GL accounts, so no ledger account is written. So: Peppol BIS 3, PDF
embedded, one file.
"""

from portal_ubl.adapters.profiles.base import Profile

PROFILE = Profile(name="yuki")
