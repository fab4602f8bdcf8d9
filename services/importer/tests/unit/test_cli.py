"""``importer template`` and ``importer validate FILE --json``: same engine, no server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from portal_importer.entrypoints.cli import main
from portal_importer.samples import client_row, fill_template


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_template_then_validate_an_empty_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "modele.xlsx"
    assert main(["template", "-o", str(template), "--lang", "nl"]) == 0
    capsys.readouterr()
    code, report = _run(["validate", str(template), "--json", "--workers", "1"], capsys)
    assert code == 1
    assert report["rows"] == 0
    assert [e["code"] for e in report["errors"]] == ["sheet.no_rows"]  # type: ignore[index, union-attr]


def test_a_valid_file_exits_0_and_says_uniqueness_was_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clients.xlsx"
    path.write_bytes(fill_template([client_row(n) for n in range(1, 31)]))
    code, report = _run(["validate", str(path), "--json", "--workers", "2"], capsys)
    assert code == 0
    assert report["valid"] is True
    assert report["rows"] == 30
    assert report["errors"] == []
    assert report["uniqueness_checked"] is False
    assert "uniqueness.offline" in {w["code"] for w in report["warnings"]}  # type: ignore[union-attr]


def test_an_invalid_file_exits_1_with_row_column_code_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [client_row(n, language="en") for n in range(1, 4)]
    rows[1]["user.mobile_phone"] = "12"
    path = tmp_path / "clients.xlsx"
    path.write_bytes(fill_template(rows, "en"))
    code, report = _run(["validate", str(path), "--json", "--lang", "nl", "--workers", "1"], capsys)
    assert code == 1
    assert report["errors"] == [
        {
            "row": 4,
            "column": "Mobile phone number *",
            "code": "phone.invalid",
            "message": report["errors"][0]["message"],  # type: ignore[index]
        }
    ]
    assert "telefoonnummer" in report["errors"][0]["message"].lower()  # type: ignore[index]


@pytest.mark.parametrize("content", [b"", b"a;b\n1;2\n", b"%PDF-1.4"])
def test_an_unreadable_file_exits_2(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clients.xlsx"
    path.write_bytes(content)
    code, report = _run(["validate", str(path), "--json", "--workers", "1"], capsys)
    assert code == 2
    assert report["valid"] is False
    assert report["rows"] == 0
    assert report["errors"][0]["code"] in {"file.empty", "file.not_xlsx"}  # type: ignore[index]


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(["validate", str(tmp_path / "nope.xlsx"), "--json"], capsys)
    assert code == 2
    assert report["errors"][0]["code"] == "file.not_found"  # type: ignore[index]


def test_the_installed_script_runs(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    script = Path(sys.executable).parent / "importer"
    done = subprocess.run(
        [str(script), "template", "-o", str(path), "--lang", "en"], check=False, timeout=60
    )
    assert done.returncode == 0
    assert path.stat().st_size > 0
    done = subprocess.run(
        [str(script), "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert "INVALID" in done.stdout
