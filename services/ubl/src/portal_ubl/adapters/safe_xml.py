"""Parsing XML we did not write: no DTD, no entities, no network, bounded size, count and depth.

A first pass streams the bytes through defusedxml's expat reader (SAX) and keeps nothing but
two counters: it refuses a DTD, an entity or an external reference by name, and stops as soon
as the document has more elements and attributes than ``MAX_NODES`` or nests deeper than
``MAX_DEPTH`` — before any tree exists, in constant memory. Only a document that passes is
parsed by lxml (entities off, no network) into the tree the readers use.

The limits, and why: the deepest path of the UBL 2.1 and CII schemas is about 12 elements below
the root; extensions and signatures add a few, hence 40 (libxml2 itself stops at 256). The
largest invoice the service accepts (10,000 lines) is about 180,000 elements and attributes as
the service writes it, hence 300,000. Measured by ``bench/bench_ubl_xml_limits.py`` (README).
"""

from __future__ import annotations

import io
import xml.sax
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser
from lxml import etree

from portal_ubl.domain.errors import Problem, RejectedDocument

MAX_XML_BYTES = 30 * 1024 * 1024  # a 20 MB PDF base64-encoded inside a UBL, plus the invoice
MAX_NODES = 300_000  # elements + attributes
MAX_DEPTH = 40

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)


class _TooLarge(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class _Counter(xml.sax.handler.ContentHandler):
    """Counts while expat reads; raises the moment a limit is passed."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes = 0
        self.depth = 0

    def startElement(self, name: str, attrs: Any) -> None:
        self.depth += 1
        self.nodes += 1 + len(attrs)
        if self.depth > MAX_DEPTH:
            raise _TooLarge("UBL-XML-06", f"XML nested deeper than {MAX_DEPTH} elements")
        if self.nodes > MAX_NODES:
            raise _TooLarge("UBL-XML-05", f"XML of more than {MAX_NODES} elements and attributes")

    def endElement(self, name: str) -> None:
        self.depth -= 1


def check_untrusted(data: bytes, field: str = "xml") -> None:
    """Refuse oversized, DTD/entity-bearing, too large or too deep XML without building it."""
    if len(data) > MAX_XML_BYTES:
        raise RejectedDocument([Problem(field, "UBL-XML-03", "XML larger than 30 MB")])
    reader = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    reader.setContentHandler(_Counter())
    try:
        reader.parse(io.BytesIO(data))
    except _TooLarge as exc:
        raise RejectedDocument([Problem(field, exc.rule, str(exc))]) from exc
    except DefusedXmlException as exc:
        raise RejectedDocument(
            [Problem(field, "UBL-XML-02", f"DTDs and entities are refused: {type(exc).__name__}")]
        ) from exc
    except (xml.sax.SAXException, ValueError) as exc:
        raise RejectedDocument([Problem(field, "UBL-XML-01", f"malformed XML: {exc}")]) from exc


def parse_untrusted(data: bytes, field: str = "xml") -> etree._Element:
    check_untrusted(data, field)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise RejectedDocument([Problem(field, "UBL-XML-01", f"malformed XML: {exc}")]) from exc
