"""Hostile XML is refused while it is read, in bounded memory, before any tree is built: too many
elements or attributes, too deep a nesting; what a genuine invoice needs still passes."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from portal_ubl.adapters.profiles.registry import get_profile
from portal_ubl.adapters.safe_xml import MAX_DEPTH, MAX_NODES, parse_untrusted
from portal_ubl.adapters.ubl_writer import build_ubl
from portal_ubl.domain.errors import RejectedDocument
from portal_ubl.intake import parse_invoice_data
from portal_ubl.mapping import to_invoice
from portal_ubl.samples import sample_data

ROOT = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'


def _refusal(data: bytes) -> tuple[str, str]:
    with pytest.raises(RejectedDocument) as caught:
        parse_untrusted(data, "xml")
    [problem] = caught.value.problems
    return problem.field, problem.rule


def _peak_mb() -> float:
    """The peak of Python-heap allocations since tracemalloc started (expat's and the
    ElementTree's included; the input bytes were allocated before)."""
    return tracemalloc.get_traced_memory()[1] / 2**20


def test_seven_million_empty_elements_are_refused_fast_and_without_a_tree() -> None:
    data = ROOT + b"<a/>" * 7_000_000 + b"</Invoice>"  # 28 MB, under the size limit
    tracemalloc.start()
    start = time.perf_counter()
    try:
        assert _refusal(data) == ("xml", "UBL-XML-05")
        assert time.perf_counter() - start < 2.0  # was 14.8 s
        assert _peak_mb() < 5  # was a tree of 7 million elements: nothing but a counter now
    finally:
        tracemalloc.stop()


def test_a_nesting_a_million_deep_is_refused_at_the_limit() -> None:
    data = ROOT + b"<a>" * 1_000_000 + b"</a>" * 1_000_000 + b"</Invoice>"
    tracemalloc.start()
    start = time.perf_counter()
    try:
        assert _refusal(data) == ("xml", "UBL-XML-06")
        assert time.perf_counter() - start < 1.0  # was 2.2 s
        assert _peak_mb() < 5
    finally:
        tracemalloc.stop()


def test_the_limits_are_exact() -> None:
    nested = ROOT[:-1] + b"/>"
    for _ in range(MAX_DEPTH - 1):
        nested = b"<a>" + nested + b"</a>"
    parse_untrusted(nested)  # MAX_DEPTH levels with the root
    assert _refusal(b"<a>" + nested + b"</a>") == ("xml", "UBL-XML-06")
    wide = ROOT + b"<a/>" * (MAX_NODES - 2) + b"</Invoice>"  # root + xmlns count too
    parse_untrusted(wide)
    assert _refusal(ROOT + b"<a/>" * (MAX_NODES - 1) + b"</Invoice>") == ("xml", "UBL-XML-05")


def test_attributes_count_towards_the_limit() -> None:
    attributes = b" ".join(b'a%d=""' % i for i in range(MAX_NODES))
    assert _refusal(ROOT + b"<a " + attributes + b"/></Invoice>") == ("xml", "UBL-XML-05")


def test_the_largest_invoice_the_service_writes_is_read_back() -> None:
    invoice = to_invoice(parse_invoice_data(sample_data(lines=10_000)))  # the schema's maximum
    ubl = build_ubl(invoice, get_profile("peppol-bis3"))
    assert parse_untrusted(ubl).tag.endswith("Invoice")
