"""What a person's name and an e-mail address may hold: one rule for the clients service (add,
edit), the importer (rows) and invitations (the headers of its e-mail), so a saved client can
always be invited.

A person's name (``user.first_name``, ``user.last_name``) is NFKC-normalised, its spaces
collapsed, and may hold letters and combining marks of any script (accents included), digits,
spaces, apostrophes (``' ’ ʼ``), hyphens (``- ‐``) and dots (``. ·``): ``Jean-Pierre``,
``D'Hondt``, ``Van den Bossche``, ``J.-M.``, ``Gal·la``, ``Lambert 2``. Nothing else: no
control, format (zero-width, bidi), line or paragraph separator character, and no ``< > @ " ,``
that would let a display name pass for an address in an e-mail's ``To:``. At least one letter.

An e-mail address is :func:`portal_contracts.values.normalise_email` (NFKC, ASCII local part,
IDNA A-label domain: the uniqueness key) plus the look-alike rule here: a non-ASCII character
that looks like an ASCII one (Cyrillic ``о`` for ``o``) is named as such, and a domain label
mixing scripts (``exаmple`` with a Cyrillic ``а``) is refused, as UTS #39's "highly restrictive"
profile does (Latin with Han, Hiragana, Katakana, Bopomofo or Hangul is one writing system).
A label written wholly in another script (``пример.рф``) stays allowed.

Invitations checks its headers with :func:`is_single_line` and :func:`is_sendable_address`:
everything the rules here accept passes them (tests/test_people.py proves it by building the
e-mail).
"""

from __future__ import annotations

import re
import unicodedata

import idna

from portal_contracts.values import (
    InvalidValue,
    check_single_line,
    describe_character,
    is_sendable_address,
    is_single_line,
    normalise_email,
)

__all__ = [
    "check_single_line",
    "is_sendable_address",
    "is_single_line",
    "normalise_client_email",
    "normalise_email",
    "normalise_person_name",
]

_NAME_PUNCTUATION = frozenset("'’ʼ-‐.·")  # apostrophes, hyphens, dots (Catalan l·l)
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9'.-]*(?: [A-Za-z0-9'.-]+)*")
_NAME_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd"})
# UTS #39 "highly restrictive": these sets of scripts are one writing system in a label.
_ONE_WRITING_SYSTEM = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_ANY_SCRIPT = frozenset({"COMMON", "INHERITED"})


def normalise_person_name(raw: str) -> str:
    """The name as stored: NFKC, trimmed, single spaces; ``InvalidValue`` naming the character."""
    if _PLAIN_NAME.fullmatch(raw):  # most names: ASCII letters, spaces, ' - . (~10x faster)
        return raw
    return _any_name(raw)


def _any_name(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw) if not raw.isascii() else raw
    check_single_line(text)
    text = " ".join(text.split())
    for position, ch in enumerate(text):
        if ch == " " or ch in _NAME_PUNCTUATION or unicodedata.category(ch) in _NAME_CATEGORIES:
            continue
        raise InvalidValue(
            "name.character", text, params={"character": ch, "position": str(position + 1)}
        )
    if not any(unicodedata.category(ch).startswith("L") for ch in text):
        raise InvalidValue("name.no_letter", text)
    return text


def normalise_client_email(raw: str) -> str:
    """:func:`normalise_email`, refusing look-alikes first (``email.confusable``,
    ``email.mixed_scripts``). The result is the same key ``normalise_email`` gives."""
    text = raw
    if not raw.isascii():
        text = unicodedata.normalize("NFKC", raw.strip())
        for ch in text.rpartition("@")[0]:
            if not ch.isascii():
                _refuse_look_alike(ch)
    address = normalise_email(text)
    _, _, domain = address.rpartition("@")
    if "xn--" in domain:
        _check_domain_scripts(domain)
    return address


def _check_domain_scripts(ascii_domain: str) -> None:
    # Imported on first use: its Unicode data takes ~50 ms to load, and only IDNs need it.
    from confusable_homoglyphs import categories

    try:
        labels = idna.decode(ascii_domain).split(".")
    except idna.IDNAError as exc:
        raise InvalidValue("email.domain_invalid", params={"domain": ascii_domain}) from exc
    for label in labels:
        scripts = {categories.alias(ch) for ch in label} - _ANY_SCRIPT
        if len(scripts) <= 1 or any(scripts <= allowed for allowed in _ONE_WRITING_SYSTEM):
            continue
        main = max(scripts, key=lambda script: sum(categories.alias(c) == script for c in label))
        for ch in label:
            if categories.alias(ch) not in _ANY_SCRIPT | {main}:
                _refuse_look_alike(ch)
        raise InvalidValue("email.mixed_scripts", label, params={"label": label})


def _refuse_look_alike(ch: str) -> None:
    """``email.confusable`` when ``ch`` looks like an ASCII character, else return."""
    from confusable_homoglyphs import confusables  # on first use, see _check_domain_scripts

    found = confusables.is_confusable(ch, preferred_aliases=["latin", "common"])
    if not found:
        return
    ascii_twins = [g["c"] for g in found[0]["homoglyphs"] if str(g["c"]).isascii()]
    if ascii_twins:
        params = {
            "character": ch,
            "name": describe_character(ch),
            "looks_like": str(ascii_twins[0]),
        }
        raise InvalidValue("email.confusable", ch, params=params)
