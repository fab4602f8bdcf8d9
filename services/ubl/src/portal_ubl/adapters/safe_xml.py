"""Parsing XML we did not write: no DTD, no entities, no network, bounded size.

defusedxml is the gate (it names the trick it refused: entity, DTD, external reference); lxml
then parses with entities off and no network, for the tree the readers use.
"""

from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET
from lxml import etree

from portal_ubl.domain.errors import Problem, RejectedDocument

MAX_XML_BYTES = 30 * 1024 * 1024  # a 20 MB PDF base64-encoded inside a UBL, plus the invoice

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)


def parse_untrusted(data: bytes, field: str = "xml") -> etree._Element:
    if len(data) > MAX_XML_BYTES:
        raise RejectedDocument([Problem(field, "UBL-XML-03", "XML larger than 30 MB")])
    try:
        DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise RejectedDocument(
            [Problem(field, "UBL-XML-02", f"DTDs and entities are refused: {type(exc).__name__}")]
        ) from exc
    except (DefusedET.ParseError, ValueError) as exc:
        raise RejectedDocument([Problem(field, "UBL-XML-01", f"malformed XML: {exc}")]) from exc
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise RejectedDocument([Problem(field, "UBL-XML-01", f"malformed XML: {exc}")]) from exc
