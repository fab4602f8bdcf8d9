"""UBL builder throughput next to a bare lxml build + serialize of the same tree, same run.

    uv run python bench/bench_ubl.py [--seconds 4]

Prints documents/second for a 10-line invoice, without and with a 200 KB PDF embedded, as the
best of 7 alternating rounds (so load from other processes hits both sides alike) of (a) the bare
lxml replay of the finished tree (SubElement calls with ready text, then tostring: the floor any
lxml builder pays) and (b) our builder (Decimal totals, template, render, base64 of the PDF,
serialize); then the per-document cost of the UBL 2.1 XSD check and of the full official rules
(CEN EN 16931 + Peppol BIS 3 schematron via saxonche).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from lxml import etree

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.adapters.profiles.registry import get_profile
from portal_ubl.adapters.ubl_writer import build_ubl
from portal_ubl.adapters.validation import check_xsd, shared_rules
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.samples import make_pdf, sample_data

Op = tuple[int, str, dict[str, str], str | None]


def _invoice(pdf: bytes | None) -> Any:
    cmd = SubmitDocument(
        "bench",
        "bench",
        DocumentKind.SALES_INVOICE,
        pdf=pdf,
        pdf_filename="invoice.pdf",
        data=json.dumps(sample_data(lines=10)).encode(),
    )
    converted = convert(cmd, None)
    return converted.invoice, converted.ubl


def _replay_plan(xml: bytes) -> tuple[str, dict[str, Any], list[Op]]:
    """The finished tree as a flat list of (parent index, tag, attributes, text)."""
    root = etree.fromstring(xml)
    index = {root: 0}
    ops: list[Op] = []
    for element in root.iterdescendants():
        parent = element.getparent()
        assert parent is not None
        ops.append((index[parent], element.tag, dict(element.attrib), element.text))
        index[element] = len(ops)
    return root.tag, dict(root.nsmap), ops


def _bare(root_tag: str, nsmap: dict[str, Any], ops: list[Op]) -> Callable[[], bytes]:
    sub = etree.SubElement

    def run() -> bytes:
        nodes = [etree.Element(root_tag, nsmap=nsmap)]
        append = nodes.append
        for parent, tag, attrib, text in ops:
            element = sub(nodes[parent], tag, attrib) if attrib else sub(nodes[parent], tag)
            if text is not None:
                element.text = text
            append(element)
        return etree.tostring(nodes[0], xml_declaration=True, encoding="UTF-8")

    return run


def _rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        count += 20
    return count / elapsed


def _best_rates(
    a: Callable[[], object], b: Callable[[], object], seconds: float, rounds: int = 7
) -> tuple[float, float]:
    """Best-of-N rates of ``a`` and ``b`` measured in alternation, so that load from other
    processes on a shared machine hits both alike instead of skewing their ratio."""
    best_a = best_b = 0.0
    for _ in range(rounds):
        best_a = max(best_a, _rate(a, seconds / rounds))
        best_b = max(best_b, _rate(b, seconds / rounds))
    return best_a, best_b


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0, help="per case and side")
    seconds = parser.parse_args().seconds
    profile = get_profile("peppol-bis3")
    pdf = make_pdf(2, padding=200_000)
    print(f"{'case':<28}{'bare lxml/s':>12}{'builder/s':>12}{'ratio':>8}")
    for label, attachment in (("10 lines", None), ("10 lines + 200 KB PDF", pdf)):
        invoice, xml = _invoice(attachment)
        assert build_ubl(invoice, profile) == _bare(*_replay_plan(xml))()  # the same tree
        bare, ours = _best_rates(
            _bare(*_replay_plan(xml)), lambda inv=invoice: build_ubl(inv, profile), seconds
        )
        print(f"{label:<28}{bare:>12.0f}{ours:>12.0f}{ours / bare:>8.0%}")

    invoice, xml = _invoice(pdf)
    tree = etree.fromstring(xml)
    assert check_xsd(tree) == []
    xsd_rate = _rate(lambda: check_xsd(tree), seconds)
    _, xml10 = _invoice(None)
    tree10 = etree.fromstring(xml10)
    xsd10 = _rate(lambda: check_xsd(tree10), seconds)
    rules = shared_rules()
    start = time.perf_counter()
    assert rules.check(xml10).passed
    compile_s = time.perf_counter() - start
    rules10 = _rate(lambda: rules.check(xml10), seconds)
    rules_pdf = _rate(lambda: rules.check(xml), seconds)
    print(
        f"XSD check per document:   {1000 / xsd10:7.2f} ms (10 lines), "
        f"{1000 / xsd_rate:7.2f} ms (with 200 KB PDF)"
    )
    print(
        f"full rules per document:  {1000 / rules10:7.2f} ms (10 lines), "
        f"{1000 / rules_pdf:7.2f} ms (with 200 KB PDF); first call incl. compiling both "
        f"stylesheets {compile_s:.2f} s"
    )


if __name__ == "__main__":
    main()
