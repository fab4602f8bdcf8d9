"""What the importer's handlers may use: ports, the validation pool, the clock."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal_importer.ports import (
    ImportRepository,
    OfficeDirectory,
    PlatformAvailability,
    WorkbookReader,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    imports: ImportRepository
    platform: PlatformAvailability
    directory: OfficeDirectory
    read_workbook: WorkbookReader
    executor: Executor | None = None  # a process pool checking rows; None: in the thread
    now: Callable[[], datetime] = field(default=utc_now)
