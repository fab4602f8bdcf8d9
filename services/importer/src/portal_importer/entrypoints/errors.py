"""The one place where the importer's named failures become problem+json (404/409/413/422)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from portal_importer.domain.errors import (
    ConcurrentChange,
    ImportInvalid,
    ImportNotFound,
    RowNotFound,
    UnknownColumn,
)
from portal_importer.domain.messages import IMPORTER_MESSAGES
from portal_importer.domain.model import ImportStateError
from portal_importer.domain.sheet import UnreadableWorkbook
from portal_servicekit.identity import request_language
from portal_servicekit.problems import (
    PROBLEM_JSON,
    FieldProblem,
    ProblemError,
    message,
    problem_response,
    register_messages,
)


def to_problem(exc: Exception) -> ProblemError:
    if isinstance(exc, ImportNotFound | RowNotFound):
        return ProblemError(404, "not_found")
    if isinstance(exc, UnreadableWorkbook):
        status = 413 if exc.code == "file.too_large" else 422
        return ProblemError(status, exc.code, params=exc.params)
    if isinstance(exc, ImportStateError):
        return ProblemError(409, exc.code)
    if isinstance(exc, ConcurrentChange):
        return ProblemError(409, "precondition.failed")
    if isinstance(exc, UnknownColumn):
        return ProblemError(
            422, "validation", fields=[FieldProblem(field=exc.name, code="field.unknown")]
        )
    return ProblemError(500, "internal")


def install(app: FastAPI) -> None:
    register_messages(IMPORTER_MESSAGES)

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, ImportInvalid):
            return _invalid(request, exc)
        return problem_response(request, to_problem(exc))

    for failure in (
        ImportNotFound,
        RowNotFound,
        UnreadableWorkbook,
        ImportStateError,
        ConcurrentChange,
        UnknownColumn,
        ImportInvalid,
    ):
        app.add_exception_handler(failure, on_error)


def _invalid(request: Request, exc: ImportInvalid) -> JSONResponse:
    """A refused confirmation answers with the report: what to fix."""
    language = request_language(request).value
    body = {
        "type": "https://errors.accountant-portal.be/import.invalid",
        "title": message("import.invalid", language),
        "status": 422,
        "code": "import.invalid",
        "instance": request.url.path,
        "report": exc.report.render(language),
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)
