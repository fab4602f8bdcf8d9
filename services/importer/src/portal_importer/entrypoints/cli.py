"""``importer``: the same template and validation engine as the service, with no server.

    importer template -o FILE [--lang fr]
    importer validate FILE [--json] [--lang fr] [--workers N]

``validate`` exits 0 when the file would import, 1 when it has errors, 2 when it cannot be read.
Offline, the platform-wide uniqueness check (e-mails, VAT numbers) is skipped and the report says so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import date
from pathlib import Path
from typing import Any

from portal_client_rules import OfficeRules
from portal_contracts.values import TransferMethod
from portal_importer.adapters.xlsx_package import ReadLimits
from portal_importer.adapters.xlsx_reader import read_workbook
from portal_importer.domain.assessment import assess
from portal_importer.domain.messages import message
from portal_importer.domain.sheet import UnreadableWorkbook
from portal_importer.domain.validation import RowContext
from portal_importer.service.engine import check_sheet, process_pool

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
LANGUAGES = ("fr", "nl", "en")


def offline_context() -> RowContext:
    """Without the office's settings every transfer method is allowed and groups are not checked."""
    return RowContext(
        OfficeRules(
            enabled_transfer_methods=frozenset(TransferMethod),
            group_ids=None,
            today=date.today(),
        )
    )


def validate_file(
    path: Path, language: str, executor: Executor | None = None
) -> tuple[int, dict[str, Any]]:
    """Exit code and JSON report of an offline validation."""
    try:
        if not path.is_file():
            raise UnreadableWorkbook("file.not_found")
        sheet = read_workbook(path, ReadLimits())
        checked = check_sheet(sheet, offline_context(), executor=executor)
    except UnreadableWorkbook as error:
        return EXIT_UNREADABLE, unreadable_report(error, language)
    report = assess(checked.facts, checked.rows, availability=None)
    return (EXIT_VALID if report.valid else EXIT_INVALID), report.render(language)


def unreadable_report(error: UnreadableWorkbook, language: str) -> dict[str, Any]:
    problem = {
        "row": None,
        "column": None,
        "code": error.code,
        "message": message(error.code, language, error.params),
    }
    return {
        "valid": False,
        "rows": 0,
        "uniqueness_checked": False,
        "errors": [problem],
        "warnings": [],
    }


def _print_human(report: dict[str, Any], out: Any) -> None:
    verdict = "valid" if report["valid"] else "INVALID"
    print(
        f"{verdict}: {report['rows']} row(s), {len(report['errors'])} error(s), {len(report['warnings'])} warning(s)",
        file=out,
    )
    for kind in ("errors", "warnings"):
        for problem in report[kind]:
            where = ", ".join(
                part
                for part in (
                    f"row {problem['row']}" if problem["row"] else "",
                    f"column {problem['column']!r}" if problem["column"] else "",
                )
                if part
            )
            print(
                f"  [{kind[:-1]}] {where or 'file'}: {problem['code']} - {problem['message']}",
                file=out,
            )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="importer", description="Client import template and validation."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    template = commands.add_parser("template", help="write the import template (.xlsx)")
    template.add_argument("-o", "--output", required=True, type=Path)
    template.add_argument("--lang", choices=LANGUAGES, default="fr")
    validate = commands.add_parser("validate", help="check a filled-in template, offline")
    validate.add_argument("file", type=Path)
    validate.add_argument("--json", action="store_true", help="print the report as JSON")
    validate.add_argument("--lang", choices=LANGUAGES, default="fr")
    validate.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes checking rows"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "template":
        from portal_importer.adapters.xlsx_template import write_template  # openpyxl: 0.2 s import

        args.output.write_bytes(write_template(args.lang))
        print(f"template written to {args.output}", file=sys.stderr)
        return 0
    if args.workers > 1:
        # Forked before the workbook is read, so the workers stay small.
        with process_pool(args.workers) as pool:
            pool.submit(int).result()
            code, report = validate_file(args.file, args.lang, pool)
    else:
        code, report = validate_file(args.file, args.lang)
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_human(report, sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
