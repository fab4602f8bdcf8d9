"""HTTP edge: ``POST /v1/documents`` (intake) and fetching a document, its UBL and its PDF.

Run with ``uvicorn --factory portal_ubl.entrypoints.http:create_app --port 8104``. Errors are
problem+json (servicekit) with one entry per field and rule, in the caller's language.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, Response, UploadFile
from pydantic import BaseModel

from portal_contracts.filenames import content_disposition
from portal_contracts.identity import Caller, Role
from portal_contracts.values import DocumentKind
from portal_servicekit.app import create_service_app
from portal_servicekit.edge import BodyLimit
from portal_servicekit.identity import CallerLanguage, CurrentCaller
from portal_servicekit.mongo import ping
from portal_servicekit.problems import FieldProblem, ProblemError, register_messages
from portal_ubl.adapters.pdf import MAX_PDF_BYTES
from portal_ubl.adapters.profiles.registry import names as profile_names
from portal_ubl.adapters.safe_xml import MAX_XML_BYTES
from portal_ubl.bootstrap import Service, bootstrap
from portal_ubl.domain.document import CLIENT_ID_PATTERN, Document, Status, SubmitDocument
from portal_ubl.domain.errors import (
    ArchivedClient,
    DocumentError,
    InvalidOutput,
    Problem,
    RejectedDocument,
    UnknownClient,
    UnknownProfile,
)
from portal_ubl.entrypoints.messages import MESSAGES, field_message
from portal_ubl.intake import MAX_DATA_BYTES
from portal_ubl.service.deps import Deps
from portal_ubl.service.handlers import submit_document

register_messages(MESSAGES)
# A client created a moment ago is known here once the worker has consumed its ClientCreated:
# the caller may retry an unknown client after this many seconds, for up to 30 s (README).
CLIENT_RETRY_AFTER_S = 2
router = APIRouter(prefix="/v1/documents", tags=["documents"])


class BlobPublic(BaseModel):
    sha256: str
    size: int
    filename: str
    media_type: str


class DocumentPublic(BaseModel):
    document_id: str
    client_id: str
    kind: DocumentKind
    profile: str
    status: str
    needs_data_entry: bool
    ubl: BlobPublic | None
    pdf: BlobPublic | None
    errors: list[dict[str, str]]


def _public(d: Document) -> DocumentPublic:
    def blob(b: Any) -> BlobPublic | None:
        return (
            BlobPublic(sha256=b.sha256, size=b.size, filename=b.filename, media_type=b.media_type)
            if b
            else None
        )

    return DocumentPublic(
        document_id=d.document_id,
        client_id=d.client_id,
        kind=d.kind,
        profile=d.profile,
        status=d.status.value,
        needs_data_entry=d.needs_data_entry,
        ubl=blob(d.ubl),
        pdf=blob(d.pdf),
        errors=[{"field": p.field, "rule": p.rule, "message": p.message} for p in d.errors],
    )


def _deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


async def _read(upload: UploadFile | None, limit: int, field: str) -> bytes | None:
    """At most ``limit`` bytes are kept in memory: a bigger upload is refused, not buffered."""
    if upload is None:
        return None
    data = await upload.read(limit + 1)
    if len(data) > limit:
        rule = "UBL-PDF-01" if field == "pdf" else "UBL-XML-03"
        raise RejectedDocument([Problem(field, rule, f"file over {limit // 1_048_576} MB")])
    return data


async def _check_client_visible(request: Request, caller: Caller, client_id: str) -> None:
    """Staff read only the documents of their groups' clients; anything else answers as if the
    document did not exist."""
    if caller.role is Role.ADMIN:
        return
    settings = await _deps(request).clients.get(caller.office_id, client_id)
    if settings is None or settings.group_id is None or not caller.sees_group(settings.group_id):
        raise ProblemError(404, "not_found")


def _problem(exc: DocumentError, language: str) -> ProblemError:
    """The domain's errors as problem+json, in one place."""
    if isinstance(exc, UnknownClient):
        return ProblemError(
            422,
            "client.unknown",
            fields=[FieldProblem(field="client_id", code="client.unknown")],
            headers={"Retry-After": str(CLIENT_RETRY_AFTER_S)},
        )
    if isinstance(exc, ArchivedClient):
        return ProblemError(
            409,
            "client.archived",
            fields=[FieldProblem(field="client_id", code="client.archived")],
        )
    if isinstance(exc, UnknownProfile):
        return ProblemError(
            422,
            "profile.unknown",
            params={"choices": ", ".join(profile_names())},
            fields=[FieldProblem(field="profile", code="profile.unknown")],
        )
    problems = exc.problems if isinstance(exc, RejectedDocument | InvalidOutput) else []
    return ProblemError(
        422 if isinstance(exc, RejectedDocument) else 500,
        "document.rejected" if isinstance(exc, RejectedDocument) else "document.invalid_output",
        fields=[
            FieldProblem(
                field=p.field, code=p.rule, message=field_message(p.rule, language, p.message)
            )
            for p in problems
        ],
    )


@router.post("", status_code=201)
async def submit(
    request: Request,
    response: Response,
    caller: CurrentCaller,
    language: CallerLanguage,
    kind: Annotated[DocumentKind, Form()],
    client_id: Annotated[str, Form(pattern=CLIENT_ID_PATTERN)],
    profile: Annotated[str | None, Form()] = None,
    data: Annotated[str | None, Form()] = None,
    pdf: Annotated[UploadFile | None, File()] = None,
    xml: Annotated[UploadFile | None, File()] = None,
) -> DocumentPublic:
    try:
        if profile is not None and profile not in profile_names():
            # Before the resubmission check: the same bytes again answered the earlier document.
            raise UnknownProfile(profile)
        cmd = SubmitDocument(
            office_id=caller.office_id,
            client_id=client_id,
            kind=kind,
            pdf=await _read(pdf, MAX_PDF_BYTES, "pdf"),
            pdf_filename=pdf.filename if pdf else None,
            xml=await _read(xml, MAX_XML_BYTES, "xml"),
            data=data.encode() if data is not None else None,
            profile=profile,
            visible_groups=caller.visible_groups(),
        )
        document = await submit_document(cmd, _deps(request))
        if document.status is Status.FAILED:  # our defect: the errors were stored
            raise InvalidOutput(document.errors)
    except DocumentError as exc:
        raise _problem(exc, language.value) from exc
    response.headers["Location"] = f"/v1/documents/{document.document_id}"
    return _public(document)


async def _owned(request: Request, caller: CurrentCaller, document_id: str) -> Document:
    document = await _deps(request).documents.get(caller.office_id, document_id)
    if document is None:  # another office's document answers the same as a missing one
        raise ProblemError(404, "not_found")
    await _check_client_visible(request, caller, document.client_id)
    return document


@router.get("/{document_id}")
async def get_document(request: Request, caller: CurrentCaller, document_id: str) -> DocumentPublic:
    return _public(await _owned(request, caller, document_id))


@router.get("/{document_id}/{part}")
async def get_file(
    request: Request, caller: CurrentCaller, document_id: str, part: str
) -> Response:
    document = await _owned(request, caller, document_id)
    blob = {"ubl": document.ubl, "pdf": document.pdf, "metadata": document.metadata}.get(part)
    if blob is None:
        raise ProblemError(404, "not_found")
    content = await _deps(request).blobs.get(blob.blob_id)
    return Response(
        content,
        media_type=blob.media_type,
        headers={
            "Content-Disposition": content_disposition(blob.filename),
            "X-Content-SHA256": blob.sha256,
        },
    )


# The edge's bound (servicekit) of an intake: a PDF and a UBL of their maximum, and `data` of the
# documented 10,000 lines (4.7 MB with every line field filled: tests/hardening), up to 8 MB.
BODY_LIMITS: dict[str, int | BodyLimit] = {
    "POST /v1/documents": BodyLimit(
        MAX_PDF_BYTES + MAX_XML_BYTES + MAX_DATA_BYTES + 2**20, field_bytes=MAX_DATA_BYTES
    )
}


def create_app(service: Service | None = None) -> FastAPI:
    """The API (``uvicorn --factory portal_ubl.entrypoints.http:create_app``). Without a
    service it bootstraps one from the environment and owns its lifecycle; a test passes its
    own and keeps it. The API only writes to MongoDB: the worker's relay publishes."""
    owned = service is None
    service = service or bootstrap()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owned:
            await service.prepare()
        try:
            yield
        finally:
            if owned:
                await service.close()

    async def mongo_ready() -> None:
        await ping(service.runtime.db)

    app = create_service_app(
        title="UBL service",
        jwt_key=service.settings.platform.jwt_key.get_secret_value(),
        lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready},
        body_limits=BODY_LIMITS,
    )
    app.state.deps = service.deps
    app.include_router(router)
    return app
