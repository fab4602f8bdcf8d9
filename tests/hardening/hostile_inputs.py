"""The hostile inputs themselves: bodies, files and values an attacker (or a broken client)
sends. Each is made once, small in memory; the big ones are made as they are sent."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable
from functools import cache
from typing import Any

from portal_importer.samples import plain_workbook
from portal_ubl.samples import make_pdf
from tests.hardening.wire import MiB, chunks

CRLF_EMAIL = "anne@example.be\r\nBcc: all@victim.example"
LF_EMAIL = "anne@example.be\nSubject: pwned"
TRAVERSALS = ("../../etc", "..%2F..%2Fetc", "/etc/passwd", "C:\\Windows", "a/../../b", "．．/x")
FORMULA = "=CMD|' /C calc'!A0"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&lol9;</ID></Invoice>
"""
XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>
"""
XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/evil.dtd">
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>1</ID></Invoice>
"""
XML_PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>1</ID></Invoice>
"""
XML_ENTITIES = {
    "billion-laughs": BILLION_LAUGHS,
    "xxe-file": XXE_FILE,
    "xxe-network-dtd": XXE_NETWORK,
    "xxe-parameter-entity": XML_PARAMETER_ENTITY,
}


def huge_json(total: int) -> Callable[[Any], dict[str, Any]]:
    """``total`` bytes of JSON-ish body, chunked (no Content-Length), made as they are sent."""
    return lambda _: {"content": chunks(total, size=64 * 1024)}


def declared(total: int) -> dict[str, str]:
    """The headers of a body that says it is ``total`` bytes (the edge must read none of it)."""
    return {"content-length": str(total)}


def declared_body(total: int) -> Callable[[Any], dict[str, Any]]:
    def body(_: Any) -> dict[str, Any]:
        stream: AsyncIterator[bytes] = chunks(total)
        return {"content": stream}

    return body


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@cache
def workbook_with_formula() -> bytes:
    """A client row whose company name is a DDE formula (write_only: "=…" is kept a formula)."""
    return plain_workbook(["company_name", "vat_number"], [[FORMULA, "BE0403170701"]])


@cache
def _deflated_zeros(size: int) -> tuple[bytes, int]:
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    block, parts, crc = b"\0" * MiB, [], 0
    for _ in range(size // MiB):
        parts.append(compressor.compress(block))
        crc = zlib.crc32(block, crc)
    parts.append(compressor.flush())
    return b"".join(parts), crc


@cache
def zip_bomb(*, lying: bool) -> bytes:
    """An .xlsx whose worksheet inflates to 300 MB (the importer's bound: 256 MB); ``lying``:
    its headers say 1 KB."""
    size = 300 * MiB
    data, crc = _deflated_zeros(size)
    said = 1024 if lying else size
    skeleton = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in skeleton.items():
            archive.writestr(name, content)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        # Written raw: a member's bytes as they are, sizes as declared.
        info.CRC, info.compress_size, info.file_size = crc, len(data), said
        offset = buffer.tell()
        info.header_offset = offset
        archive.fp.write(info.FileHeader())  # type: ignore[union-attr]
        archive.fp.write(data)  # type: ignore[union-attr]
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
        archive.start_dir = buffer.tell()
    return buffer.getvalue()


def not_a_workbook() -> bytes:
    return _zip({"hello.txt": b"not an xlsx"})


def pdf() -> bytes:
    return make_pdf(1)
