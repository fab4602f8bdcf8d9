"""Checks on an uploaded workbook BEFORE any spreadsheet library touches it.

An .xlsx is a zip of XML parts. Here, in one bounded streaming pass: magic bytes (CSV, PDF, .xls,
password-protected OLE2 containers, random bytes), zip integrity (every CRC), the uncompressed size
(zip bombs), DOCTYPE/ENTITY declarations (XML entity tricks), and, per worksheet, how far its filled
cells really reach (a sheet claiming or holding cell XFD1048576 would make a reader allocate
billions of cells; rows are counted whether or not their cells carry an address) and whether it
holds formulas at all. The few XML parts parsed here are parsed
with defusedxml.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import olefile
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from portal_importer.domain.sheet import MAX_COLUMNS, MAX_ROWS, UnreadableWorkbook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 1 << 20
_OVERLAP = 1024
_MAX_ROW_BYTES = 16 * 1024 * 1024  # one <row> element; a real row of 100 columns is a few KB
_VALUE_CELL = re.compile(
    rb'<(?:\w{1,20}:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(?<!/)>\s*<(?:\w{1,20}:)?(?:v|is|f)\b'
)
# A row or a cell without its r attribute (optional in OOXML: it follows the previous one).
_UNADDRESSED = re.compile(rb"<(?:\w{1,20}:)?(?:row|c)(?:\s(?![^>]*?\br=)[^>]*)?>")
# A row element, whole: its attributes and, unless it is empty (<row/>), its content.
_ROW = re.compile(rb"<((?:\w{1,20}:)?)row\b([^>]*?)(?:/>|(?<!/)>(.*?)</\1row\s*>)", re.S)
_ROW_START = re.compile(rb"<(?:\w{1,20}:)?row\b")
_ROW_NUMBER = re.compile(rb'\br="([0-9]{1,7})"')
_VALUE = re.compile(rb"<(?:\w{1,20}:)?(?:v|is)\b")  # a cell's value: cached, or an inline string
_FORMULA = re.compile(rb"<(?:\w{1,20}:)?f[\s>/]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DIMENSION = re.compile(
    rb'<(?:\w{1,20}:)?dimension\s+ref="([A-Z]{1,3}[0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"'
)


@dataclass(frozen=True)
class ReadLimits:
    max_file_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 256 * 1024 * 1024
    max_members: int = 1000
    max_xml_meta_bytes: int = 8 * 1024 * 1024  # workbook.xml and its relationships
    max_rows: int = MAX_ROWS  # data rows; the header and a few title rows come on top
    max_columns: int = MAX_COLUMNS
    max_value_cells: int = 4_500_000


@dataclass
class SheetScan:
    """How far a worksheet's values reach. Cells carry their address (``r="B7"``) as Excel and
    LibreOffice write them, and one pass of a regular expression finds the furthest. ``r`` is
    optional in OOXML, though (a row or cell without it follows the previous one): a sheet
    holding such rows or cells is counted again row element by row element, so that rows
    cannot hide from the limits by leaving their cells unaddressed."""

    part: str
    max_row: int = 0  # the last row holding a value
    max_column: int = 0  # (a bound on) the last column holding a value
    value_rows: int = 0  # rows holding a value (counted when some are unaddressed)
    value_cells: int = 0  # a bound, not a tally
    has_formulas: bool = False
    claimed: str | None = None  # the <dimension ref> the sheet claims
    unaddressed: bool = False  # some row or cell has no r attribute
    row: int = 0  # while counting: the row number reached

    def take_window(self, window: bytes) -> None:
        if not self.has_formulas and _FORMULA.search(window):
            self.has_formulas = True
        if not self.unaddressed and _UNADDRESSED.search(window):
            self.unaddressed = True
        found = _VALUE_CELL.findall(window)
        if found:
            self.value_cells += len(found)  # the overlap may count a cell twice
            columns, rows = zip(*found, strict=True)
            self.max_row = max(self.max_row, max(map(int, rows)))
            self.max_column = max(self.max_column, max(map(column_index, set(columns))))

    def take_row(self, attributes: bytes, content: bytes | None) -> None:
        number = _ROW_NUMBER.search(attributes)
        self.row = int(number.group(1)) if number else self.row + 1
        if not content or not (_VALUE.search(content) or _FORMULA.search(content)):
            return  # empty or only formatted: nothing to import
        self.value_rows += 1
        self.max_row = max(self.max_row, self.row)
        self.value_cells += len(_VALUE.findall(content))
        addressed = {letters for letters, _ in _VALUE_CELL.findall(content)}
        widest = max(map(column_index, addressed)) if addressed else 0
        # An unaddressed cell sits one column after the previous cell: at most this far.
        self.max_column = max(self.max_column, widest + len(_UNADDRESSED.findall(content)))


@dataclass(frozen=True)
class SheetEntry:
    name: str
    part: str  # zip member, e.g. "xl/worksheets/sheet1.xml"
    visible: bool


@dataclass
class PackageScan:
    sheets: list[SheetEntry]
    scans: Mapping[str, SheetScan] = field(default_factory=dict)


def column_index(letters: str | bytes) -> int:
    """1-based column number of ``"A"``, ``"AB"``, ``"XFD"``."""
    text = letters.decode() if isinstance(letters, bytes) else letters
    number = 0
    for ch in text:
        number = number * 26 + (ord(ch) - 64)
    return number


def check_magic(head: bytes, size: int, limits: ReadLimits) -> None:
    if size == 0:
        raise UnreadableWorkbook("file.empty")
    if size > limits.max_file_bytes:
        raise UnreadableWorkbook("file.too_large", max_mb=str(limits.max_file_bytes // 2**20))
    if head.startswith(_OLE2):
        raise UnreadableWorkbook("file.xls")  # refined to file.encrypted by the caller
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise UnreadableWorkbook("file.not_xlsx")


def _ole2_code(source: Path | bytes) -> str:
    """An OLE2 container is an old .xls or an encrypted (password-protected) .xlsx."""
    try:
        with olefile.OleFileIO(str(source) if isinstance(source, Path) else source) as ole:
            if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                return "file.encrypted"
            if ole.exists("Workbook") or ole.exists("Book"):
                return "file.xls"
    except (OSError, ValueError, IndexError):
        pass
    return "file.not_xlsx"


def inspect_package(source: Path | bytes, limits: ReadLimits) -> PackageScan:
    """Raise :class:`UnreadableWorkbook` or describe the package's worksheets."""
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    head = _head(source)
    try:
        check_magic(head, size, limits)
    except UnreadableWorkbook as error:
        if error.code == "file.xls":
            raise UnreadableWorkbook(_ole2_code(source)) from None
        raise
    try:
        with zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source)) as archive:
            return _inspect_archive(archive, limits)
    except UnreadableWorkbook:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as exc:
        raise UnreadableWorkbook("file.corrupt") from exc
    except DefusedXmlException as exc:
        raise UnreadableWorkbook("file.xml_entities") from exc
    except (ParseError, NotImplementedError) as exc:  # bad XML, unknown compression method
        raise UnreadableWorkbook("file.corrupt") from exc


def _head(source: Path | bytes) -> bytes:
    if isinstance(source, bytes):
        return source[:8]
    with source.open("rb") as handle:
        return handle.read(8)


def _inspect_archive(archive: zipfile.ZipFile, limits: ReadLimits) -> PackageScan:
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise UnreadableWorkbook("file.zip_bomb")
    if sum(m.file_size for m in members) > limits.max_uncompressed_bytes:
        raise UnreadableWorkbook("file.zip_bomb")
    if any(m.flag_bits & 0x1 for m in members):
        raise UnreadableWorkbook("file.encrypted")
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UnreadableWorkbook("file.not_xlsx")
    sheets = _sheet_entries(archive, limits)
    sheet_parts = {s.part for s in sheets}
    scans: dict[str, SheetScan] = {}
    total = 0
    for member in members:
        scan = SheetScan(member.filename) if member.filename in sheet_parts else None
        total += _stream_member(archive, member, scan, limits, total)
        if scan is not None:
            scans[member.filename] = scan
    return PackageScan(sheets, scans)


def _stream_member(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    scan: SheetScan | None,
    limits: ReadLimits,
    total_before: int,
) -> int:
    """Read one member to its end (zipfile checks the CRC there); count and scan what it holds."""
    is_xml = member.filename.endswith((".xml", ".rels", ".vml"))
    read = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            read += len(chunk)
            if total_before + read > limits.max_uncompressed_bytes:
                raise UnreadableWorkbook("file.zip_bomb")
            window = tail + chunk
            if is_xml and _DTD.search(window):
                raise UnreadableWorkbook("file.xml_entities")
            if scan is not None:
                if read == len(chunk):
                    _claimed_dimension(scan, window)
                scan.take_window(window)
                _enforce_extent(scan, limits)
            tail = window[-_OVERLAP:]
    if scan is not None and scan.unaddressed:
        _count_rows(archive, member, scan, limits)
    return read


def _claimed_dimension(scan: SheetScan, window: bytes) -> None:
    claim = _DIMENSION.search(window, 0, 4096)
    if claim and claim.group(2):
        end = claim.group(2).decode() + claim.group(3).decode()
        scan.claimed = f"{claim.group(1).decode()}:{end}"


def _count_rows(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, scan: SheetScan, limits: ReadLimits
) -> None:
    """Row element by row element, numbering rows as Excel does; stops at the first limit
    passed. A row cut by the end of a read is read again with the next one (bounded)."""
    pending = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            window = pending + chunk
            done = 0
            for found in _ROW.finditer(window):
                scan.take_row(found.group(2), found.group(3))
                done = found.end()
            _enforce_extent(scan, limits)
            cut = _ROW_START.search(window, done)
            if cut is None:
                pending = window[max(done, len(window) - _OVERLAP) :]
            elif len(window) - cut.start() > _MAX_ROW_BYTES:
                raise UnreadableWorkbook("sheet.too_many_cells")
            else:
                pending = window[cut.start() :]


def _enforce_extent(scan: SheetScan, limits: ReadLimits) -> None:
    # A header row and a few title rows may sit above the data; the validation counts the data
    # rows themselves against max_rows.
    if max(scan.max_row, scan.value_rows) > limits.max_rows + 20:
        raise UnreadableWorkbook("sheet.too_many_rows", max=str(limits.max_rows))
    if scan.max_column > limits.max_columns:
        raise UnreadableWorkbook("sheet.too_many_columns", max=str(limits.max_columns))
    if scan.value_cells > limits.max_value_cells:
        raise UnreadableWorkbook("sheet.too_many_cells")


def _sheet_entries(archive: zipfile.ZipFile, limits: ReadLimits) -> list[SheetEntry]:
    """Sheet names, their zip parts and visibility, from workbook.xml and its relationships."""
    workbook = SafeET.fromstring(_read_meta(archive, "xl/workbook.xml", limits))
    rels_name = "xl/_rels/workbook.xml.rels"
    targets: dict[str, str] = {}
    if rels_name in archive.namelist():
        rels = SafeET.fromstring(_read_meta(archive, rels_name, limits))
        for rel in rels.iter(f"{{{PKG_REL_NS}}}Relationship"):
            target = rel.get("Target", "")
            part = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join("xl", target))
            )
            targets[rel.get("Id", "")] = part
    entries: list[SheetEntry] = []
    for sheet in workbook.iter(f"{{{MAIN_NS}}}sheet"):
        part = targets.get(sheet.get(f"{{{REL_NS}}}id", ""), "")
        state = sheet.get("state", "visible")
        entries.append(SheetEntry(sheet.get("name", ""), part, state == "visible"))
    if not entries:
        raise UnreadableWorkbook("file.not_xlsx")
    return entries


def _read_meta(archive: zipfile.ZipFile, name: str, limits: ReadLimits) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limits.max_xml_meta_bytes:
        raise UnreadableWorkbook("file.zip_bomb")
    data = archive.read(name)
    if _DTD.search(data):
        raise UnreadableWorkbook("file.xml_entities")
    return data
