"""Small KBO Open Data extracts written the way the FPS Economy publishes them (every value
quoted, numbers with dots, dd-mm-yyyy dates), as a zip or an unpacked folder."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

from portal_clients.domain.kbo import ENTERPRISE_COLUMNS

# (number with dots, status, juridical situation, type of enterprise, start date)
Row = tuple[str, str, str, str, str]


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _enterprises(rows: Sequence[Row]) -> str:
    full = [(n, s, j, t, "610" if t == "2" else "", "", d) for n, s, j, t, d in rows]
    return _csv(ENTERPRISE_COLUMNS, full)


def write_extract(
    where: Path,
    number: int,
    kind: str,
    enterprises: Sequence[Row] = (),
    deleted: Sequence[str] = (),
    *,
    as_zip: bool = True,
) -> Path:
    day = f"{1 + number % 28:02d}-10-2026"
    files = {
        "meta.csv": _csv(
            ("Variable", "Value"),
            [
                ("SnapshotDate", day),
                ("ExtractTimestamp", f"{day} 03:10:00"),
                ("ExtractType", kind),
                ("ExtractNumber", f"{number:04d}"),
                ("Version", "1.0.0"),
            ],
        ),
        "code.csv": _csv(
            ("Category", "Code", "Language", "Description"),
            [
                ("JuridicalSituation", "000", "FR", "Situation normale"),
                ("JuridicalSituation", "000", "NL", "Normale toestand"),
                ("JuridicalSituation", "012", "FR", "Ouverture de faillite"),
                ("JuridicalSituation", "012", "NL", "Opening faillissement"),
                ("Status", "AC", "FR", "Actif"),
            ],
        ),
    }
    if kind == "full":
        files["enterprise.csv"] = _enterprises(enterprises)
    else:
        files["enterprise_delete.csv"] = _csv(("EnterpriseNumber",), [(n,) for n in deleted])
        files["enterprise_insert.csv"] = _enterprises(enterprises)
    name = f"KboOpenData_{number:04d}_2026_10_{kind.capitalize()}"
    if not as_zip:
        folder = where / name
        folder.mkdir(parents=True)
        for file, text in files.items():
            (folder / file).write_text(text, encoding="utf-8")
        return folder
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file, text in files.items():
            zf.writestr(file, text)
    return path
