"""File names that are safe wherever a file goes next: an HTTP header, a mail attachment, a
folder on an sFTP server or OneDrive, a zip, a Windows desktop.

:func:`safe_filename` is applied once, where a name enters the platform (an upload, a name read
from a document) or where one is built for delivery; :func:`content_disposition` writes the
RFC 6266 header for any name, Unicode included.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_FILENAME_BYTES = 200  # UTF-8; file systems allow 255, archives and mail clients less
_SEPARATORS = re.compile(r"[/\\]")
_RESERVED = re.compile(r'[<>:"|?*]')  # not allowed in Windows names; '"' would end a header
_SPACES = re.compile(r"\s+")
_WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)


def safe_filename(raw: str | None, *, default: str = "document", extension: str = "") -> str:
    """A plain file name made of ``raw``: its last path component, without control or format
    characters (line breaks, bidi overrides), quotes and characters Windows refuses, spaces
    collapsed, no leading dot, at most 200 UTF-8 bytes (the extension kept), never a Windows
    device name; ``default`` when nothing is left. With ``extension`` (".pdf") the name ends
    with it. Idempotent: a safe name comes back unchanged.
    """
    text = unicodedata.normalize("NFC", raw or "")
    text = _SEPARATORS.split(text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"})
    text = _SPACES.sub(" ", _RESERVED.sub("_", text)).strip(" .")
    if not text:
        text = default
    if _WINDOWS_DEVICES.match(text):
        text = "_" + text
    if extension and not text.lower().endswith(extension.lower()):
        text += extension
    return _shorten(text)


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    return stem.encode()[:budget].decode(errors="ignore").rstrip(" .") + suffix


def ascii_filename(name: str) -> str:
    """The closest plain-ASCII name (accents dropped, other characters as ``_``)."""
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(
        ch if ch.isascii() else "_" for ch in decomposed if not unicodedata.combining(ch)
    )
    return re.sub(r"_+", "_", text)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="ASCII fallback"; filename*=UTF-8''percent-encoded`` (RFC 6266,
    RFC 8187): every browser shows the Unicode name, old clients the fallback, and no byte of
    the name can end the parameter or the header."""
    name = safe_filename(filename)
    fallback = ascii_filename(name).replace("%", "_")  # some clients decode %xx even here
    encoded = quote(name, safe="!#$&+-.^_`|~")
    if fallback == name:
        return f'{disposition}; filename="{name}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
