"""Every kind of bad upload gets a clear error, fast and with bounded memory, and imports nothing."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import olefile
import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook

from portal_importer.adapters.xlsx_package import ReadLimits
from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.domain.assessment import assess
from portal_importer.domain.columns import CATALOGUE
from portal_importer.domain.messages import message
from portal_importer.domain.sheet import UnreadableWorkbook
from portal_importer.entrypoints.cli import EXIT_UNREADABLE, offline_context, validate_file
from portal_importer.samples import client_row, fill_template
from portal_importer.service.engine import check_sheet
from services.importer.tests.fakes import crafted_sheet

GOOD = fill_template([client_row(n) for n in range(1, 4)])


def _code(data: bytes, limits: ReadLimits | None = None) -> str:
    started = time.perf_counter()
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(data, limits)
    assert time.perf_counter() - started < 5, "a bad file must be refused fast"
    return caught.value.code


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in replace.items():
            if name not in source.namelist():
                target.writestr(name, content)
    return out.getvalue()


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def test_an_empty_file() -> None:
    assert _code(b"") == "file.empty"


def test_a_file_over_the_size_limit() -> None:
    assert _code(GOOD, ReadLimits(max_file_bytes=1000)) == "file.too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"Numero de TVA;Nom\nBE0403170701;Exemple\n",  # a CSV
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",  # a PDF
        bytes(range(256)) * 40,  # random bytes renamed .xlsx
    ],
    ids=["csv", "pdf", "random"],
)
def test_files_that_are_not_workbooks(data: bytes) -> None:
    assert _code(data) == "file.not_xlsx"


def test_a_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _code(out.getvalue()) == "file.not_xlsx"


def _ole(streams: dict[str, bytes]) -> bytes:
    # olefile cannot write; the encrypted case uses msoffcrypto, the .xls case a minimal container.
    return _minimal_cfb(streams)


def test_an_old_xls_workbook() -> None:
    assert _code(_ole({"Workbook": b"\x09\x08" + b"\0" * 4094})) == "file.xls"


def test_a_password_protected_workbook() -> None:
    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(GOOD)).encrypt("s3cret", encrypted)
    assert olefile.isOleFile(encrypted.getvalue())
    assert _code(encrypted.getvalue()) == "file.encrypted"


def test_a_corrupt_zip() -> None:
    damaged = bytearray(GOOD)
    start = len(damaged) // 3
    damaged[start : start + 200] = bytes(200)
    assert _code(bytes(damaged)) == "file.corrupt"


def test_a_truncated_zip() -> None:
    assert _code(GOOD[: len(GOOD) // 2]) == "file.corrupt"


def test_a_zip_bomb_is_refused_without_inflating_it() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in zipfile.ZipFile(io.BytesIO(GOOD)).infolist():
            archive.writestr(info.filename, zipfile.ZipFile(io.BytesIO(GOOD)).read(info.filename))
        with archive.open("xl/media/bomb.bin", "w") as member:
            zeros = bytes(1 << 20)
            for _ in range(300):
                member.write(zeros)
    bomb = out.getvalue()
    assert len(bomb) < 2 * 1024 * 1024
    assert _code(bomb) == "file.zip_bomb"


def test_a_bomb_whose_declared_sizes_lie_is_never_inflated_past_them() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in zipfile.ZipFile(io.BytesIO(GOOD)).infolist():
            archive.writestr(info.filename, zipfile.ZipFile(io.BytesIO(GOOD)).read(info.filename))
        archive.writestr("xl/media/bomb.bin", bytes(200 * 1024 * 1024))
    lying = bytearray(out.getvalue())
    # Claim 1 KiB uncompressed in both the local header and the central directory.
    name = b"xl/media/bomb.bin"
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = lying.find(signature + b"", 0)
        while start != -1:
            if lying[start + name_at : start + name_at + len(name)] == name:
                lying[start + size_at : start + size_at + 4] = (1024).to_bytes(4, "little")
            start = lying.find(signature, start + 4)
    assert _code(bytes(lying)) in {"file.corrupt", "file.zip_bomb"}


def test_the_uncompressed_cap_holds_while_streaming() -> None:
    assert _code(GOOD, ReadLimits(max_uncompressed_bytes=5_000)) == "file.zip_bomb"


def test_xml_entity_tricks_are_refused() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    sheet = _sheet_xml(GOOD).replace("<worksheet", laughs + "<worksheet", 1)
    assert _code(_rezip(GOOD, {"xl/worksheets/sheet1.xml": sheet.encode()})) == "file.xml_entities"
    external = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    with zipfile.ZipFile(io.BytesIO(GOOD)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    workbook = workbook.replace("<workbook", external + "<workbook", 1)
    assert _code(_rezip(GOOD, {"xl/workbook.xml": workbook.encode()})) == "file.xml_entities"


def test_a_sheet_holding_a_cell_at_the_last_row_is_refused_fast() -> None:
    sheet = _sheet_xml(GOOD).replace(
        "</sheetData>",
        '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    assert (
        _code(_rezip(GOOD, {"xl/worksheets/sheet1.xml": sheet.encode()})) == "sheet.too_many_rows"
    )


def test_a_sheet_holding_a_cell_in_the_last_column_is_refused_fast() -> None:
    sheet = _sheet_xml(GOOD).replace("</row>", '<c r="XFD1"><v>1</v></c></row>', 1)
    assert (
        _code(_rezip(GOOD, {"xl/worksheets/sheet1.xml": sheet.encode()}))
        == "sheet.too_many_columns"
    )


def test_a_sheet_only_claiming_the_whole_grid_reads_its_real_cells() -> None:
    sheet = re.sub(
        r'<dimension ref="[^"]+"/>', '<dimension ref="A1:XFD1048576"/>', _sheet_xml(GOOD)
    )
    read = read_workbook(_rezip(GOOD, {"xl/worksheets/sheet1.xml": sheet.encode()}))
    assert read is not None
    checked = check_sheet(read, offline_context())
    report = assess(checked.facts, checked.rows, None)
    assert report.valid
    assert report.rows == 3
    assert any(w.code == "sheet.dimension_ignored" for w in report.warnings)


def test_thousands_of_formatted_but_empty_rows_are_ignored() -> None:
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    workbook = load_workbook(io.BytesIO(GOOD))
    sheet = workbook.worksheets[0]
    for row in range(6, 20_000):
        sheet.cell(row=row, column=1).font = Font(bold=True)
        sheet.cell(row=row, column=5).value = "   "  # spaces only: empty once trimmed
    buffer = io.BytesIO()
    workbook.save(buffer)
    checked = check_sheet(read_workbook(buffer.getvalue()), offline_context())
    report = assess(checked.facts, checked.rows, None)
    assert report.valid
    assert report.rows == 3


def test_formulas_are_read_from_cached_values_and_never_evaluated() -> None:
    row = client_row(7)
    sheet = _sheet_xml(fill_template([row]))
    # Excel and LibreOffice store the result next to the formula: only that result is read.
    name_column = [c.key for c in CATALOGUE].index("company.name")
    letter = chr(ord("A") + name_column)
    sheet = re.sub(
        rf'<c r="{letter}3"([^>]*)t="inlineStr"><is><t>[^<]*</t></is></c>',
        rf'<c r="{letter}3"\1t="str"><f>CONCAT("Soc","iété")</f><v>Cached SRL</v></c>',
        sheet,
    )
    assert "<f>" in sheet
    data = _rezip(fill_template([row]), {"xl/worksheets/sheet1.xml": sheet.encode()})
    read = read_workbook(data)
    assert read is not None
    values = [v for _, v in read.rows]
    assert values[-1][name_column] == "Cached SRL"


def test_a_formula_without_a_cached_value_is_an_error_for_that_cell() -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(fill_template([client_row(1), client_row(2)])))
    sheet = workbook.worksheets[0]
    email_column = [c.key for c in CATALOGUE].index("user.email") + 1
    sheet.cell(row=4, column=email_column).value = '=LOWER("X@Y.BE")'  # openpyxl caches nothing
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = read_workbook(buffer.getvalue())
    checked = check_sheet(read, offline_context())
    report = assess(checked.facts, checked.rows, None).render("en")
    assert report["valid"] is False
    assert [(e["row"], e["column"], e["code"]) for e in report["errors"]] == [
        (4, "Adresse e-mail *", "cell.formula_without_value")  # as written in the file
    ]


def test_a_workbook_with_no_recognisable_header_is_invalid_not_unreadable() -> None:
    workbook = Workbook()
    workbook.worksheets[0].append(["foo", "bar"])
    workbook.worksheets[0].append(["1", "2"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_workbook(buffer.getvalue()) is None
    checked = check_sheet(None, offline_context())
    report = assess(checked.facts, checked.rows, None)
    assert [e.code for e in report.errors] == ["sheet.no_header"]


# --- a minimal compound file (OLE2) writer, enough for an .xls-looking container -----------------


def _minimal_cfb(streams: dict[str, bytes]) -> bytes:
    """One FAT sector, one directory sector, streams of >= 4096 bytes (no mini stream)."""
    sector = 512
    names = list(streams)
    data_sectors: list[list[int]] = []
    next_free = 2  # 0: FAT, 1: directory
    for name in names:
        count = -(-len(streams[name]) // sector)
        data_sectors.append(list(range(next_free, next_free + count)))
        next_free += count
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * (next_free - 2)
    for chain in data_sectors:
        for a, b in zip(chain, [*chain[1:], 0xFFFFFFFE], strict=True):
            fat[a] = b
    fat += [0xFFFFFFFF] * (sector // 4 - len(fat))
    header = bytearray(sector)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:26] = (0x3E).to_bytes(2, "little")
    header[26:28] = (3).to_bytes(2, "little")
    header[28:30] = (0xFFFE).to_bytes(2, "little")
    header[30:32] = (9).to_bytes(2, "little")
    header[32:34] = (6).to_bytes(2, "little")
    header[44:48] = (1).to_bytes(4, "little")  # FAT sectors
    header[48:52] = (1).to_bytes(4, "little")  # first directory sector
    header[56:60] = (4096).to_bytes(4, "little")
    header[60:64] = (0xFFFFFFFE).to_bytes(4, "little")
    header[68:72] = (0xFFFFFFFE).to_bytes(4, "little")
    header[76:80] = (0).to_bytes(4, "little")
    header[80:sector] = b"\xff" * (sector - 80)

    def entry(
        name: str,
        kind: int,
        start: int,
        size: int,
        child: int = 0xFFFFFFFF,
        right: int = 0xFFFFFFFF,
    ) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[0 : len(encoded)] = encoded
        raw[64:66] = len(encoded).to_bytes(2, "little")
        raw[66] = kind
        raw[67] = 1
        raw[68:72] = (0xFFFFFFFF).to_bytes(4, "little")
        raw[72:76] = right.to_bytes(4, "little")
        raw[76:80] = child.to_bytes(4, "little")
        raw[116:120] = start.to_bytes(4, "little")
        raw[120:124] = size.to_bytes(4, "little")
        return bytes(raw)

    directory = entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1)
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else 0xFFFFFFFF
        directory += entry(name, 2, data_sectors[index][0], len(streams[name]), right=right)
    directory += b"\0" * (sector * 1 - len(directory))
    body = b"".join(
        streams[n].ljust(len(data_sectors[i]) * sector, b"\0") for i, n in enumerate(names)
    )
    fat_bytes = b"".join(v.to_bytes(4, "little") for v in fat)
    return bytes(header) + fat_bytes + directory[:sector] + body


def test_rows_without_cell_addresses_count_against_the_row_limit() -> None:
    """Issue 16 point 4: 120,000 rows whose cells carry no r="A1" were read whole (586 MB)."""
    assert _code(crafted_sheet(120_000)) == "sheet.too_many_rows"


def test_the_offline_validation_refuses_them_too(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    path.write_bytes(crafted_sheet(120_000))
    code, report = validate_file(path, "en")
    assert code == EXIT_UNREADABLE
    assert [e["code"] for e in report["errors"]] == ["sheet.too_many_rows"]
    assert "100000" in report["errors"][0]["message"]
    for language in ("fr", "nl", "en"):
        assert "100000" in message("sheet.too_many_rows", language, {"max": "100000"})


def test_unaddressed_rows_within_the_limit_are_read_with_their_numbers() -> None:
    read = read_workbook(crafted_sheet(5))
    assert read is not None
    checked = check_sheet(read, offline_context())
    assert [r.row for r in checked.rows] == [2, 3, 4, 5, 6]


def test_data_rows_are_counted_exactly_against_the_maximum() -> None:
    """The package scan allows a few title rows above the data; the validation counts the data
    rows themselves and refuses one more than the maximum."""
    data = crafted_sheet(11, addressed=True)
    assert check_sheet(read_workbook(data), offline_context(), max_rows=11).rows
    with pytest.raises(UnreadableWorkbook) as refused:
        check_sheet(read_workbook(data), offline_context(), max_rows=10)
    assert refused.value.code == "sheet.too_many_rows"
