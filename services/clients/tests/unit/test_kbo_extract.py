"""The extract reader on files written as the publisher writes them (no server needed)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal_clients.adapters.kbo_extract import Extract
from portal_clients.domain.kbo import Enterprise, ExtractType, KboFormatError

from ..kbo_extracts import write_extract

_enterprises = st.lists(
    st.builds(
        Enterprise,
        number=st.integers(0, 9_999_999_999).map(lambda n: f"{n:010d}"),
        status=st.sampled_from(["AC"]),
        juridical_situation=st.sampled_from(["000", "012", "091"]),
        type_of_enterprise=st.sampled_from(["1", "2"]),
        juridical_form=st.none(),
        start_date=st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)),
    ),
    max_size=30,
)


def _row(e: Enterprise) -> tuple[str, str, str, str, str]:
    n = e.number
    day = e.start_date.strftime("%d-%m-%Y") if e.start_date else ""
    return (f"{n[:4]}.{n[4:7]}.{n[7:]}", e.status, e.juridical_situation, "1", day)


@settings(max_examples=30, deadline=None)
@given(_enterprises, st.integers(1, 7), st.booleans())
def test_what_is_written_in_the_official_layout_reads_back(
    enterprises: list[Enterprise], batch: int, as_zip: bool
) -> None:
    expected = [
        Enterprise(e.number, e.status, e.juridical_situation, "1", None, e.start_date)
        for e in enterprises
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_extract(Path(tmp), 7, "full", [_row(e) for e in enterprises], as_zip=as_zip)
        extract = Extract(path)
        try:
            assert extract.meta().type is ExtractType.FULL
            read = [e for b in extract.enterprises("enterprise.csv", batch) for e in b]
            assert all(len(b) <= batch for b in extract.enterprises("enterprise.csv", batch))
        finally:
            extract.close()
    assert read == expected


def test_a_file_without_the_columns_or_not_an_extract_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(KboFormatError, match="neither a folder nor a zip"):
        Extract(tmp_path / "notes.txt")
    folder = tmp_path / "extract"
    folder.mkdir()
    (folder / "enterprise.csv").write_text('"EnterpriseNumber","Status"\r\n"0403.170.701","AC"\r\n')
    extract = Extract(folder)
    with pytest.raises(KboFormatError, match="JuridicalSituation"):
        list(extract.enterprises("enterprise.csv", 10))
    with pytest.raises(KboFormatError, match=r"has no meta\.csv"):
        extract.meta()
