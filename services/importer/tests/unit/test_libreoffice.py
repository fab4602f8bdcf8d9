"""A workbook saved by LibreOffice (``soffice --headless --convert-to xlsx``) reads exactly like the
openpyxl-written original; a real .xls saved by LibreOffice is refused as such.

Needs LibreOffice Calc (Debian: ``apt-get install -y libreoffice-calc-nogui``); skipped only when
``soffice`` is absent on this machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.domain.assessment import assess
from portal_importer.domain.rows import map_headers
from portal_importer.domain.sheet import UnreadableWorkbook
from portal_importer.domain.text import cell_text
from portal_importer.entrypoints.cli import offline_context
from portal_importer.samples import client_row, fill_template
from portal_importer.service.engine import check_sheet

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed here: apt-get install -y libreoffice-calc-nogui",
)


def _convert(source: Path, target_format: str, out_dir: Path) -> Path:
    assert SOFFICE is not None
    out_dir.mkdir()
    profile = out_dir.parent / "lo-profile"
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target_format,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    converted = out_dir / (source.stem + "." + target_format)
    assert done.returncode == 0, done.stderr
    assert converted.exists(), done.stdout + done.stderr
    return converted


def _read(path: Path) -> tuple[list[tuple[int, dict[str, str]]], dict[str, object]]:
    checked = check_sheet(read_workbook(path), offline_context(), sink=lambda rows: None)
    report = assess(checked.facts, checked.rows, None).render("fr")
    sheet = read_workbook(path)
    assert sheet is not None
    columns = map_headers(sheet.headers)
    cells = [(row, columns.cells_of(values, cell_text)) for row, values in sheet.rows]
    return [c for c in cells if c[1]], report


def test_a_workbook_saved_by_libreoffice_reads_like_the_openpyxl_one(tmp_path: Path) -> None:
    rows = [client_row(n) for n in range(1, 41)]
    rows[5]["user.email"] = "broken@"  # the same error must come out of both
    rows[7]["company.vat_number"] = "403170701"  # digits only, as a text cell
    original = tmp_path / "clients.xlsx"
    original.write_bytes(fill_template(rows))
    converted = _convert(original, "xlsx", tmp_path / "lo")
    assert converted.read_bytes() != original.read_bytes()

    cells_before, report_before = _read(original)
    cells_after, report_after = _read(converted)
    assert cells_after == cells_before
    assert report_after == report_before
    assert report_before["rows"] == 40
    assert [(e["row"], e["code"]) for e in report_before["errors"]] == [(8, "email.syntax")]  # type: ignore[index]


def test_an_xls_saved_by_libreoffice_is_refused_as_old_excel(tmp_path: Path) -> None:
    original = tmp_path / "clients.xlsx"
    original.write_bytes(fill_template([client_row(1)]))
    converted = _convert(original, "xls", tmp_path / "lo")
    with pytest.raises(UnreadableWorkbook) as caught:
        read_workbook(converted)
    assert caught.value.code == "file.xls"
