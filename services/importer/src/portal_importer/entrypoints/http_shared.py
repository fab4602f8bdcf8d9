"""What the importer's routers share: the handlers' dependencies, the caller's token, an upload
read within its limit, and the JSON shapes of an import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, UploadFile

from portal_importer.domain.model import ImportRecord
from portal_importer.domain.report import Report
from portal_importer.service.deps import Deps
from portal_servicekit.problems import ProblemError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def bearer_token(request: Request) -> str:
    """Forwarded to the clients service, which answers with the caller's rights."""
    return request.headers.get("authorization", "").partition(" ")[2]


Services = Annotated[Deps, Depends(get_deps)]
Token = Annotated[str, Depends(bearer_token)]


async def read_upload(request: Request, file: UploadFile) -> bytes:
    limit: int = request.app.state.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ProblemError(413, "file.too_large", params={"max_mb": limit // 2**20})
    return data


def summary(record: ImportRecord) -> dict[str, Any]:
    return {
        "id": record.import_id,
        "status": record.status.value,
        "version": record.version,
        "rows": record.rows,
        "errors": record.errors,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "created_by": record.created_by,
        "filename": record.uploads[-1].filename if record.uploads else None,
        "uploads": [
            {
                "version": u.version,
                "filename": u.filename,
                "uploaded_at": u.uploaded_at.isoformat(),
                "rows": u.rows,
            }
            for u in record.uploads
        ],
        "clients_created": record.clients_created,
    }


def detail(record: ImportRecord, report: Report, language: str) -> dict[str, Any]:
    return {**summary(record), "report": report.render(language)}
