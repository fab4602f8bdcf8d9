"""``ubl build | validate | schema``: the intake engine and the official rules from a shell.

- ``ubl build INPUT [--profile NAME] [--pdf FILE] [--kind KIND] [-o OUT.xml]``: INPUT is the
  intake JSON, a UBL XML or a (Factur-X) PDF;
- ``ubl validate FILE.xml...``: PASS/FAIL per file with the failed rule ids; exit 0 only if all
  pass (UBL 2.1 XSD + CEN EN 16931 + Peppol rules, from ``PEPPOL_RULES_DIR``);
- ``ubl schema``: the intake JSON Schema.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.profiles.base import PEPPOL_CUSTOMIZATION
from portal_ubl.adapters.profiles.registry import DEFAULT, names
from portal_ubl.adapters.safe_xml import parse_untrusted
from portal_ubl.adapters.validation import RulesUnavailable, check_xsd, shared_rules
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.domain.errors import DocumentError, RejectedDocument
from portal_ubl.intake import intake_schema

_CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def _build(args: argparse.Namespace) -> int:
    raw = Path(args.input).read_bytes()
    pdf = Path(args.pdf).read_bytes() if args.pdf else None
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    xml = data = None
    if head.startswith(b"%PDF") or b"%PDF-" in raw[:1024]:
        pdf = raw
    elif head.startswith(b"<"):
        xml = raw
    else:
        data = raw
    cmd = SubmitDocument(
        office_id="cli",
        client_id="cli",
        kind=DocumentKind(args.kind),
        pdf=pdf,
        pdf_filename=Path(args.pdf or args.input).name if pdf else None,
        xml=xml,
        data=data,
        profile=args.profile,
    )
    try:
        converted = convert(cmd, None)
    except RejectedDocument as exc:
        for p in exc.problems:
            print(f"{p.field}: [{p.rule}] {p.message}", file=sys.stderr)
        return 2
    except DocumentError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if converted.ubl is None:
        print("no invoice data in this input: it needs data entry", file=sys.stderr)
        return 2
    for p in converted.xsd_problems:
        print(f"UBL 2.1 schema: {p.message}", file=sys.stderr)
    if args.output:
        Path(args.output).write_bytes(converted.ubl)
    else:
        sys.stdout.buffer.write(converted.ubl)
    return 1 if converted.xsd_problems else 0


def _validate(args: argparse.Namespace) -> int:
    failures = 0
    try:
        rules = shared_rules()
    except RulesUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for name in args.files:
        try:
            xml = Path(name).read_bytes()
            root = parse_untrusted(xml)
        except (OSError, RejectedDocument) as exc:
            print(f"FAIL {name}: {exc}")
            failures += 1
            continue
        ids = [p.rule for p in check_xsd(root)]
        if not ids:
            peppol = (root.findtext(_CBC + "CustomizationID") or "") == PEPPOL_CUSTOMIZATION
            ids = sorted(rules.check(xml, peppol=peppol).rule_ids())
        print(f"{'FAIL' if ids else 'PASS'} {name}" + (f": {' '.join(ids)}" if ids else ""))
        failures += bool(ids)
    return 1 if failures else 0


def _schema(_: argparse.Namespace) -> int:
    print(json.dumps(intake_schema(), indent=2, ensure_ascii=False))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ubl", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the UBL of an intake JSON, UBL or PDF")
    build.add_argument("input")
    build.add_argument("--profile", default=DEFAULT, choices=names())
    build.add_argument("--pdf", help="the PDF that goes with an intake JSON")
    build.add_argument(
        "--kind",
        default=DocumentKind.PURCHASE_INVOICE.value,
        choices=[k.value for k in DocumentKind],
    )
    build.add_argument("-o", "--output")
    build.set_defaults(run=_build)
    validate = commands.add_parser("validate", help="check UBL files against the official rules")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(run=_validate)
    schema = commands.add_parser("schema", help="print the intake JSON Schema")
    schema.set_defaults(run=_schema)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
