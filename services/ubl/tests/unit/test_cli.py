"""``ubl build | validate | schema`` through ``main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal_ubl.entrypoints.cli import main
from portal_ubl.samples import make_pdf, sample_data


@pytest.fixture
def intake(tmp_path: Path) -> Path:
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(sample_data(lines=3)), encoding="utf-8")
    (tmp_path / "invoice.pdf").write_bytes(make_pdf(2))
    return path


def test_build_then_validate(
    intake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.xml"
    assert (
        main(
            [
                "build",
                str(intake),
                "--pdf",
                str(tmp_path / "invoice.pdf"),
                "-o",
                str(out),
                "--kind",
                "sales_invoice",
            ]
        )
        == 0
    )
    assert b"EmbeddedDocumentBinaryObject" in out.read_bytes()
    assert main(["validate", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"PASS {out}"


def test_validate_fails_with_rule_ids(
    intake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.xml"
    main(["build", str(intake), "-o", str(good)])
    bad = tmp_path / "bad.xml"
    bad.write_bytes(
        good.read_bytes().replace(b"<cbc:BuyerReference>PO-778</cbc:BuyerReference>", b"")
    )
    capsys.readouterr()
    assert main(["validate", str(good), str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"PASS {good}"
    assert lines[1].startswith(f"FAIL {bad}: ")
    assert "PEPPOL-EN16931-R003" in lines[1]


def test_build_rejects_with_field_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample_data(lines=1)
    data["lines"][0]["vat_category"] = "Q"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["build", str(path)]) == 2
    assert "lines.0.vat_category: [BR-CL-17]" in capsys.readouterr().err


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "lines" in schema["properties"]
    assert "VatCategory" in schema["$defs"]


def test_rules_dir_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from portal_ubl.adapters.validation import RulesUnavailable, rules_dir

    monkeypatch.setenv("PEPPOL_RULES_DIR", str(tmp_path))
    with pytest.raises(RulesUnavailable, match="PEPPOL_RULES_DIR"):
        rules_dir()
    monkeypatch.delenv("PEPPOL_RULES_DIR")
    assert (rules_dir() / "CEN-EN16931-UBL.xslt").is_file()


def test_the_schema_check_works_without_a_rules_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from portal_ubl.adapters.validation import xsd_dir

    monkeypatch.setenv("PEPPOL_RULES_DIR", str(tmp_path))
    assert (xsd_dir() / "maindoc" / "UBL-Invoice-2.1.xsd").is_file()
