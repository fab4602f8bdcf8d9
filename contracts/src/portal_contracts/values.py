"""Value types carried by events and shared by services: VAT numbers, e-mails, phones, IBANs.

Each normaliser returns the canonical form or raises :class:`InvalidValue` with a stable code; the
human message in fr/nl/en is chosen at the edge (see portal_client_rules.messages), never here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated
from urllib.parse import unquote

import idna
import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError


class InvalidValue(ValueError):
    """A value that breaks a rule; ``code`` is stable and used to pick a translated message."""

    def __init__(
        self, code: str, detail: str = "", *, params: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.params: Mapping[str, str] = dict(params or {})  # fill the message's {placeholders}


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


# --- Characters ---------------------------------------------------------------------------------

# What no single line of text may hold, whatever the field: controls (Cc: CR, LF, TAB, NEL...),
# format characters (Cf: zero-width spaces and joiners, soft hyphen, BOM, bidi overrides), line and
# paragraph separators (Zl, Zp: U+2028, U+2029) and lone surrogates (Cs). Mail software and
# terminals break lines on some of them; the others are invisible, so two values that look the same
# differ. Private-use and unassigned code points are not refused here: they break nothing.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_character(text: str) -> tuple[int, str] | None:
    """The first character (0-based position, character) one line of text may not hold, if any."""
    if text.isascii():  # the hot path: only C0 controls and DEL can be wrong
        control = _ASCII_CONTROL.search(text)
        return (control.start(), control.group()) if control else None
    for position, ch in enumerate(text):
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            return position, ch
    return None


def is_single_line(text: str) -> bool:
    """True when ``text`` holds no control, format, line or paragraph separator character."""
    return unsafe_character(text) is None


def describe_character(ch: str) -> str:
    """``U+2028 LINE SEPARATOR``: how a message names a character a person may not see."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def check_single_line(text: str, prefix: str = "text") -> None:
    """Raise ``<prefix>.control_character`` or ``<prefix>.invisible_character`` (params:
    character, position counted from 1) for the first character one line may not hold."""
    found = unsafe_character(text)
    if found is None:
        return
    position, ch = found
    kind = "control_character" if unicodedata.category(ch) == "Cc" else "invisible_character"
    params = {"character": describe_character(ch), "position": str(position + 1)}
    raise InvalidValue(f"{prefix}.{kind}", params=params)


# --- E-mail -------------------------------------------------------------------------------------


def normalise_email(raw: str) -> str:
    """The canonical address, the key of the platform-wide uniqueness rule (no DNS lookup).

    NFKC first (full-width ``ｉｎｆｏ`` and ``＠`` are the ASCII ones), then lower case. The local
    part must be ASCII: a non-ASCII one needs SMTPUTF8 end to end, which the invitation e-mail
    (``policy.default``: NonASCIILocalPartDefect), our relay configuration and many receiving
    servers do not offer. The domain is stored as its IDNA A-label (``bücher.de`` ->
    ``xn--bcher-kva.de``, UTS #46 mapping, non-transitional): one key per domain however it is
    typed, and the address goes into an e-mail header as plain ASCII. :func:`display_email`
    gives the Unicode form back for screens.

    A ``+tag`` and Gmail dots are kept on purpose: plus-addressing is how one person with two
    companies gets two distinct platform addresses (``info+shop2@gmail.com``).
    """
    text = raw.strip()
    if not text:
        raise InvalidValue("email.required")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    check_single_line(text)
    lowered = text.lower()
    if _is_plain_address(lowered):
        return lowered
    local, at, domain = lowered.rpartition("@")
    if not at or not local or not domain:
        raise InvalidValue("email.syntax", "no @")
    for ch in local:
        if not ch.isascii():
            raise InvalidValue("email.local_part_not_ascii", local, params={"character": ch})
    return _library_email(f"{local}@{ascii_domain(domain)}")


def ascii_domain(domain: str) -> str:
    """The IDNA A-label form of a domain (``email.domain_invalid`` when it has none)."""
    if domain.isascii() and "xn--" not in domain:
        return domain
    try:
        encoded = idna.encode(domain, uts46=True, std3_rules=True, transitional=False)
    except idna.IDNAError as exc:
        raise InvalidValue("email.domain_invalid", str(exc), params={"domain": domain}) from exc
    return encoded.decode("ascii")


def display_email(address: str) -> str:
    """The address with its domain in Unicode (``a@bücher.de``), for people; never a key."""
    local, _, domain = address.rpartition("@")
    if "xn--" not in domain:
        return address
    try:
        return f"{local}@{idna.decode(domain)}"
    except idna.IDNAError:
        return address


# Plain ASCII addresses (nearly all of them) are checked here, ~20x faster than email-validator;
# anything else (quotes, IDNA "--" labels, special-use domains) goes to the library.
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
    # ascii_email: the A-label domain (``normalized`` would give the U-label back).
    return (checked.ascii_email or checked.normalized).lower()


def is_sendable_address(address: str) -> bool:
    """True when an e-mail header can carry ``address`` without SMTPUTF8: one line, ASCII, one
    local part and one domain. Every address :func:`normalise_email` returns is sendable."""
    local, at, domain = address.rpartition("@")
    return (
        bool(at and local and domain)
        and address.isascii()
        and is_single_line(address)
        and not any(ch.isspace() for ch in address)
    )


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


# --- Folder names (sFTP, agent, OneDrive; delivery builds its paths with them) ------------------

# 150 leaves ~100 of Windows' 260 characters (MAX_PATH) for the agent's base folder, the
# per-type sub-folder and the file name; OneDrive allows 400, sFTP servers more.
MAX_FOLDER_LENGTH = 150
MAX_FOLDER_NAME_LENGTH = 80
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Refused by Windows (the agent) and OneDrive in a file or folder name; "/" and "\\" separate.
_FORBIDDEN_IN_NAMES = frozenset('<>:"|?*')
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"}
    | {f"{device}{n}" for device in ("com", "lpt") for n in "0123456789"}
)


def normalise_folder(raw: str) -> str:
    """A safe relative folder, the same on every channel: ``clients/acme``.

    Read as the channels would read it: percent-escapes decoded (``%2e%2e`` is ``..``: refused,
    and any escape is refused, the name is to be written plainly), NFKC (``．．`` and ``‥`` are
    ``..``), ``\\`` as ``/``. Then refused: invisible or control characters, an absolute path
    (``/``, ``C:``, ``~``), ``..``, and every name :func:`normalise_folder_name` refuses; at most
    :data:`MAX_FOLDER_LENGTH` characters. Empty and ``.`` names are dropped (``a//./b`` is
    ``a/b``), spaces around a ``/`` too.
    """
    text = raw.strip()
    if not text:
        raise InvalidValue("folder.required")
    if len(text) > 4 * MAX_FOLDER_LENGTH:  # refused before any work on a huge value
        raise InvalidValue("folder.too_long", params={"max": str(MAX_FOLDER_LENGTH)})
    if _PERCENT_ESCAPE.search(text):
        decoded = _percent_decoded(text)
        normalise_folder(decoded)  # what the escapes hide is named first: "..", a control...
        raise InvalidValue("folder.percent_encoded", text, params={"decoded": decoded})
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    check_single_line(text, "folder")
    text = text.replace("\\", "/")
    if text.startswith(("/", "~")) or _DRIVE.match(text):
        raise InvalidValue("folder.absolute")
    parts = [part.strip() for part in text.split("/")]
    parts = [part for part in parts if part not in ("", ".")]
    if ".." in parts:
        raise InvalidValue("folder.traversal")
    if not parts:
        raise InvalidValue("folder.required")
    folder = "/".join(normalise_folder_name(part) for part in parts)
    if len(folder) > MAX_FOLDER_LENGTH:
        raise InvalidValue("folder.too_long", params={"max": str(MAX_FOLDER_LENGTH)})
    return folder


def normalise_folder_name(raw: str) -> str:
    """One folder (or file) name, safe on Windows, OneDrive and sFTP alike; no separator.

    Spaces at either end are dropped (``" acme "`` is ``acme``). Refused: ``..``, invisible or
    control characters, a character Windows or OneDrive refuses (``< > : " | ? *``) or a
    separator, a name Windows reserves (``CON``, ``nul.txt``, ``COM1``...), a trailing dot
    (Windows drops it, so ``acme.`` and ``acme`` would be one folder), more than
    :data:`MAX_FOLDER_NAME_LENGTH` characters.
    """
    name = unicodedata.normalize("NFKC", raw) if not raw.isascii() else raw
    name = name.strip(" ")
    if not name:
        raise InvalidValue("folder.required")
    if name == "..":
        raise InvalidValue("folder.traversal")
    check_single_line(name, "folder")
    for ch in name:
        if ch in _FORBIDDEN_IN_NAMES or ch in "/\\":
            raise InvalidValue("folder.character", params={"character": ch, "name": name})
    if name.endswith("."):
        raise InvalidValue("folder.trailing_dot", params={"name": name})
    if name.split(".", 1)[0].rstrip(" ").lower() in _WINDOWS_RESERVED:
        raise InvalidValue("folder.reserved_name", params={"name": name})
    if len(name) > MAX_FOLDER_NAME_LENGTH:
        params = {"max": str(MAX_FOLDER_NAME_LENGTH), "name": name[:20] + "…"}
        raise InvalidValue("folder.name_too_long", params=params)
    return name


def _percent_decoded(text: str) -> str:
    """Percent-escapes decoded until none is left (``%252e`` -> ``%2e`` -> ``.``), at most 4 times."""
    for _ in range(4):
        decoded = unquote(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text


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
