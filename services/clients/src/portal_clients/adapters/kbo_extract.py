"""Reading a KBO Open Data extract: the zip as downloaded, or the folder it was unpacked into.

Only the files the register needs are opened (meta.csv, enterprise.csv, or in an update
enterprise_delete.csv and enterprise_insert.csv); the full extract's enterprise file is about
two million lines, so rows are streamed in batches, never held whole. Plain blocking file
reading: the loader calls it from a thread.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TypeVar

from portal_clients.domain.kbo import (
    Enterprise,
    ExtractMeta,
    KboFormatError,
    check_enterprise_header,
    deleted_number,
    enterprise_from_row,
    meta_from_rows,
)

T = TypeVar("T")

META = "meta.csv"
CODES = "code.csv"
ENTERPRISES = "enterprise.csv"
DELETED = "enterprise_delete.csv"
INSERTED = "enterprise_insert.csv"


class Extract:
    """One extract; a zip is opened once and closed with the extract."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_dir():
            self._members = {p.name.casefold(): str(p) for p in path.rglob("*.csv")}
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            self._members = {PurePosixPath(n).name.casefold(): n for n in self._zip.namelist() if n}
        else:
            raise KboFormatError(f"{path} is neither a folder nor a zip file")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def has(self, name: str) -> bool:
        return name.casefold() in self._members

    def meta(self) -> ExtractMeta:
        with self._rows(META) as rows:
            return meta_from_rows(rows)

    def code_labels(self, category: str, language: str = "FR") -> dict[str, str]:
        """code.csv's descriptions of one category ("JuridicalSituation") in one language;
        empty when the extract has no code.csv."""
        if not self.has(CODES):
            return {}
        with self._rows(CODES) as rows:
            return {
                r["Code"].strip(): r["Description"].strip()
                for r in rows
                if r.get("Category") == category and r.get("Language") == language
            }

    def enterprises(self, name: str, batch: int) -> Iterator[list[Enterprise]]:
        """enterprise.csv (full) or enterprise_insert.csv (update), ``batch`` rows at a time."""
        with self._rows(name) as rows:
            check_enterprise_header(rows.fieldnames or ())
            yield from _batches(rows, enterprise_from_row, batch, name)

    def deleted(self, batch: int) -> Iterator[list[str]]:
        if not self.has(DELETED):
            return
        with self._rows(DELETED) as rows:
            yield from _batches(rows, deleted_number, batch, DELETED)

    @contextlib.contextmanager
    def _rows(self, name: str) -> Iterator[csv.DictReader[str]]:
        member = self._members.get(name.casefold())
        if member is None:
            raise KboFormatError(f"{self.path} has no {name}")
        raw: IO[bytes] = self._zip.open(member) if self._zip else Path(member).open("rb")
        # utf-8-sig: a byte-order mark, if the publisher adds one, is not part of the first name
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            yield csv.DictReader(text)


def _batches(
    rows: csv.DictReader[str], read: Callable[[dict[str, str]], T], size: int, name: str
) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        try:
            batch.append(read(row))
        except (KboFormatError, KeyError, TypeError, AttributeError) as exc:
            raise KboFormatError(f"{name} line {rows.line_num}: {exc}") from exc
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
