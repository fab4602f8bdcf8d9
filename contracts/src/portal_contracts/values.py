"""Value types carried by events and shared by services: VAT numbers, e-mails, phones, IBANs.

Each normaliser returns the canonical form or raises :class:`InvalidValue` with a stable code; the
human message in fr/nl/en is chosen at the edge (see portal_client_rules.messages), never here.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Annotated

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError


class InvalidValue(ValueError):
    """A value that breaks a rule; ``code`` is stable and used to pick a translated message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Language(StrEnum):
    FR = "fr"
    NL = "nl"
    EN = "en"


class SubscriptionMode(StrEnum):
    """The three subscription modes of the help article ("Mode d'abonnement")."""

    FULL_FOLLOW_UP = "full_follow_up"
    DELIVERY_ONLY = "delivery_only"
    ACCOUNTANT_MANAGED = "accountant_managed"


class ClientStatus(StrEnum):
    NOT_INVITED = "not_invited"
    INACTIVE = "inactive"
    ACTIVE = "active"


class VatFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    NOT_LIABLE = "not_liable"


class TransferMethod(StrEnum):
    """How an office's documents reach its accounting software (a delivery target kind)."""

    MANUAL = "manual"
    EMAIL = "email"
    SFTP = "sftp"
    ONEDRIVE = "onedrive"
    API = "api"
    AGENT = "agent"


class DocumentKind(StrEnum):
    PURCHASE_INVOICE = "purchase_invoice"
    SALES_INVOICE = "sales_invoice"
    CREDIT_NOTE = "credit_note"
    MISC_DOCUMENT = "misc_document"
    CREDIT_CARD_STATEMENT = "credit_card_statement"


class AccountingSoftware(StrEnum):
    WINBOOKS = "winbooks"
    EXACT_ONLINE = "exact_online"
    OCTOPUS = "octopus"
    YUKI = "yuki"
    BASECONE = "basecone"
    ZENSOFT = "zensoft"
    WINGS = "wings"
    CLEARFACTS = "clearfacts"
    ADSOLUT = "adsolut"
    EXPERT_M = "expert_m"
    OTHER = "other"


# --- VAT number ---------------------------------------------------------------------------------

_VAT_PREFIX = re.compile(r"^(?:TVA|BTW|VAT)\s*", re.IGNORECASE)
_BE_VAT = re.compile(r"^BE[01]\d{9}$")


def normalise_vat_number(raw: str, default_country: str = "BE") -> str:
    """Canonical VAT number: country prefix + digits, e.g. ``BE0403170701``.

    Accepts spaces, dots, dashes, a ``TVA``/``BTW`` label and a missing prefix (Belgian numbers are
    often written ``0403.170.701``). The per-country checksum comes from python-stdnum; for Belgium
    that is 10 digits starting with 0 or 1 and the mod-97 check.
    """
    text = _VAT_PREFIX.sub("", raw.strip())
    compact = re.sub(r"[\s.\-/]", "", text).upper()
    if not compact:
        raise InvalidValue("vat.required")
    if compact[:2].isdigit():
        compact = default_country + compact
    if compact.startswith("BE") and len(compact) == 11:
        compact = "BE0" + compact[2:]  # old 9-digit Belgian numbers gained a leading 0
    if _BE_VAT.match(compact) and int(compact[2:]) > 0:
        # Fast path for the common case, the same check as stdnum.be.vat (mod 97).
        if (int(compact[2:10]) + int(compact[10:])) % 97 == 0:
            return compact
        raise InvalidValue("vat.checksum", compact)
    return _library_vat(compact)


def _library_vat(compact: str) -> str:
    try:
        return str(eu_vat.validate(compact))
    except InvalidChecksum as exc:
        raise InvalidValue("vat.checksum", compact) from exc
    except (InvalidFormat, InvalidLength) as exc:
        raise InvalidValue("vat.format", compact) from exc
    except ValidationError as exc:
        raise InvalidValue("vat.format", compact) from exc


# --- E-mail -------------------------------------------------------------------------------------


def normalise_email(raw: str) -> str:
    """Trimmed, lower-cased, syntax-checked address (no DNS lookup).

    A ``+tag`` and Gmail dots are kept on purpose: plus-addressing is how one person with two
    companies gets two distinct platform addresses (``info+shop2@gmail.com``).
    """
    text = raw.strip()
    if not text:
        raise InvalidValue("email.required")
    if any(ch in text for ch in "\r\n"):
        raise InvalidValue("email.syntax", "line break")
    lowered = text.lower()
    if _is_plain_address(lowered):
        return lowered
    return _library_email(text)


# Plain ASCII addresses (nearly all of them) are checked here, ~20x faster than email-validator;
# anything else (quotes, Unicode, IDNA "--" labels, special-use domains) goes to the library.
# tests/test_values.py proves both paths agree.
_PLAIN_LOCAL = re.compile(r"^[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*$")
_PLAIN_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _is_plain_address(address: str) -> bool:
    local, at, domain = address.partition("@")
    if not at or len(local) > 64 or len(address) > 254 or "--" in domain:
        return False
    if not (_PLAIN_LOCAL.match(local) and _PLAIN_DOMAIN.match(domain)):
        return False
    return not any(
        domain == special or domain.endswith("." + special) for special in SPECIAL_USE_DOMAIN_NAMES
    )


def _library_email(text: str) -> str:
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue("email.syntax", str(exc)) from exc
    return checked.normalized.lower()


# --- Phone --------------------------------------------------------------------------------------

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_mobile_phone(raw: str, default_region: str = "BE") -> str:
    """A mobile number in E.164 (``+32470123456``); Belgian numbers may be written locally."""
    text = raw.strip()
    if not text:
        raise InvalidValue("phone.required")
    belgian_mobile = _BE_MOBILE.match(re.sub(r"[\s./()-]", "", text))
    if belgian_mobile and default_region == "BE":
        # Fast path: phonenumbers' own BE mobile pattern (4[5-9]\d{7}), ~30x faster than parsing.
        return "+32" + belgian_mobile.group(1)
    return _library_phone(text, default_region)


_BE_MOBILE = re.compile(r"^(?:\+32|0032|32|0)(4[5-9]\d{7})$")


def _library_phone(text: str, default_region: str) -> str:
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text[:2] in {"32", "31", "33", "49", "35"} and len(re.sub(r"\D", "", text)) >= 11:
        text = "+" + text  # Excel drops the "+" of an international number typed as a number
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("phone.syntax", text) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("phone.invalid", text)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidValue("phone.not_mobile", text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- IBAN ---------------------------------------------------------------------------------------


def normalise_iban(raw: str) -> str:
    """Compact upper-case IBAN with a valid mod-97 checksum and the length of its country."""
    compact = re.sub(r"[\s.\-]", "", raw).upper()
    if not compact:
        raise InvalidValue("iban.required")
    if _BE_IBAN.match(compact):
        # Fast path for Belgian accounts: the ISO 13616 mod-97 check, as stdnum does it.
        if int(compact[4:] + "1114" + compact[2:4]) % 97 == 1:  # "BE" -> 11 14
            return compact
        raise InvalidValue("iban.checksum", compact)
    return _library_iban(compact)


_BE_IBAN = re.compile(r"^BE\d{14}$")


def _library_iban(compact: str) -> str:
    try:
        # check_country=False: the country's length and structure are checked, but not bank
        # registries, which lag behind real banks and would refuse valid accounts.
        return str(stdnum_iban.validate(compact, check_country=False))
    except InvalidChecksum as exc:
        raise InvalidValue("iban.checksum", compact) from exc
    except ValidationError as exc:
        raise InvalidValue("iban.format", compact) from exc


# --- Folder names (sFTP, agent, OneDrive) -------------------------------------------------------


def normalise_folder(raw: str) -> str:
    """A safe relative folder: no ``..``, no absolute path, no drive, no control characters."""
    text = raw.strip().replace("\\", "/")
    if not text:
        raise InvalidValue("folder.required")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidValue("folder.control_character")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or text.startswith("~"):
        raise InvalidValue("folder.absolute")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise InvalidValue("folder.traversal")
    if not parts:
        raise InvalidValue("folder.required")
    return "/".join(parts)


def _pydantic(normaliser: object) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return normaliser(value)  # type: ignore[operator, no-any-return]
        except InvalidValue as exc:
            raise ValueError(exc.code) from exc

    return AfterValidator(check)


VatNumber = Annotated[str, _pydantic(normalise_vat_number)]
EmailAddress = Annotated[str, _pydantic(normalise_email)]
MobilePhone = Annotated[str, _pydantic(normalise_mobile_phone)]
Iban = Annotated[str, _pydantic(normalise_iban)]
SafeFolder = Annotated[str, _pydantic(normalise_folder)]
