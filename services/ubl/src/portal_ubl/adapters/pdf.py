"""Checks that a PDF is one, and small enough, before anything is stored."""

from __future__ import annotations

import io

from portal_ubl.domain.errors import Problem, RejectedDocument

MAX_PDF_BYTES = 20 * 1024 * 1024


def check_pdf(data: bytes, field: str = "pdf") -> int:
    """The page count of a valid PDF; otherwise a rejection naming the field and the rule."""
    if len(data) > MAX_PDF_BYTES:
        raise RejectedDocument(
            [Problem(field, "UBL-PDF-01", f"PDF of {len(data)} bytes is over the 20 MB limit")]
        )
    if b"%PDF-" not in data[:1024]:
        raise RejectedDocument([Problem(field, "UBL-PDF-02", "this file is not a PDF")])
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(io.BytesIO(data), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RejectedDocument(
            [Problem(field, "UBL-PDF-02", f"this PDF cannot be read: {exc}")]
        ) from exc
    if pages < 1:
        raise RejectedDocument([Problem(field, "UBL-PDF-02", "this PDF has no page")])
    return pages
