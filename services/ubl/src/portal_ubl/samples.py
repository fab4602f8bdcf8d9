"""Sample documents: a tiny PDF writer and the intake data of a plain Belgian invoice.

Shipped in the package because ``bench/bench_ubl.py`` builds its workload with them (a benchmark
script cannot import the tests); the tests use them too. Fakes live in ``tests/fakes.py``."""

from __future__ import annotations

import copy
import hashlib
from typing import Any


def make_pdf(pages: int = 1, text: str = "Invoice", padding: int = 0) -> bytes:
    """A valid PDF written by hand: ``pages`` pages of Helvetica text, plus ``padding`` bytes of
    incompressible data in an unreferenced stream (to reach a given size)."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids: list[int] = []
    next_id = 4
    for page in range(pages):
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        stream = f"BT /F1 18 Tf 72 720 Td ({text} - page {page + 1}) Tj ET".encode()
        objects[content_id] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        kids.append(page_id)
    if padding:
        blob = bytearray()
        seed = b"padding"
        while len(blob) < padding:
            seed = hashlib.sha256(seed).digest()
            blob += seed
        objects[next_id] = b"<< /Length %d >>\nstream\n%s\nendstream" % (padding, blob[:padding])
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        pages,
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objects):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (oid, objects[oid])
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for oid in range(1, size):
        out += b"%010d 00000 n \n" % offsets.get(oid, 0)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


SELLER: dict[str, Any] = {
    "name": "Comptabilité Société Générale SRL",
    "vat_number": "BE0403170701",
    "enterprise_number": "0403170701",
    "address": {
        "street": "Rue Neuve 1",
        "city": "Bruxelles",
        "postal_code": "1000",
        "country": "BE",
    },
    "email": "factures@example.be",
}
BUYER: dict[str, Any] = {
    "name": "Klant NV",
    "vat_number": "BE0202239951",
    "enterprise_number": "0202239951",
    "address": {"street": "Veldstraat 2", "city": "Gent", "postal_code": "9000", "country": "BE"},
}


def sample_data(lines: int = 10, **overrides: Any) -> dict[str, Any]:
    """Intake JSON of a plain Belgian invoice with ``lines`` lines at 21 %."""
    data: dict[str, Any] = {
        "number": "F-2026-0001",
        "issue_date": "2026-01-15",
        "due_date": "2026-02-14",
        "seller": copy.deepcopy(SELLER),
        "buyer": copy.deepcopy(BUYER),
        "buyer_reference": "PO-778",
        "lines": [
            {
                "description": f"Prestation {i + 1}",
                "quantity": "2",
                "unit_code": "HUR",
                "unit_price": "45.50",
                "vat_category": "S",
                "vat_rate": "21",
            }
            for i in range(lines)
        ],
        "payment_means": [
            {"iban": "BE68 5390 0754 7034", "structured_reference": "+++090/9337/55493+++"}
        ],
    }
    data.update(overrides)
    return data
