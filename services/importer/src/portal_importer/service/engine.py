"""The validation engine shared by the API, the worker and the command line.

Rows stream from the reader in batches; each batch is checked against the shared client rules,
in worker processes when a pool is given (the rules cost ~200 µs a row, so two cores halve the
time of a big file). Only each row's outcome (problems, normalised e-mail and VAT number) is
kept in memory; a ``sink`` receives the full rows batch by batch to store them.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from portal_importer.domain.assessment import FileFacts
from portal_importer.domain.column_model import Kind
from portal_importer.domain.rows import ColumnMap, is_example, map_headers
from portal_importer.domain.sheet import MAX_ROWS, SheetRows, too_many_rows
from portal_importer.domain.text import cell_text, typed_not_text
from portal_importer.domain.validation import CheckedRow, RowContext, check_row

BATCH_ROWS = 1000
# Excel row, cells, keys of unreadable cells, keys of text columns whose cell Excel typed as a
# true/false, a decimal or a date (`true` would read "yes", `1e308` "1e+308": not what was meant).
RowInput = tuple[int, dict[str, str], frozenset[str], frozenset[str]]
Sink = Callable[[list[CheckedRow]], None]


@dataclass
class SheetCheck:
    """A checked sheet: file facts and every data row's outcome, in row order."""

    facts: FileFacts
    rows: list[CheckedRow] = field(default_factory=list)
    column_map: ColumnMap | None = None


def check_batch(
    batch: Sequence[RowInput], context: RowContext, keep_cells: bool
) -> list[CheckedRow]:
    """Runs in a worker process: module-level so it pickles by name."""
    checked = [
        check_row(row, cells, context, blocked, keep_client=keep_cells, not_text_keys=not_text)
        for row, cells, blocked, not_text in batch
    ]
    return checked if keep_cells else [c.outcome() for c in checked]


def row_inputs(
    sheet: SheetRows, column_map: ColumnMap, skipped_examples: list[int], max_rows: int = MAX_ROWS
) -> Iterator[RowInput]:
    """Data rows as cells keyed by column; empty rows (however formatted) and the example go.
    One data row more than ``max_rows`` refuses the file (UnreadableWorkbook)."""
    count = 0
    unreadable_by_row: dict[int, set[str]] = {}
    keys_by_index = {p.index: p.column.key for p in column_map.placed}
    text_columns = [
        (p.index, p.column.key) for p in column_map.placed if p.column.kind is Kind.TEXT
    ]
    for row, index in sheet.unreadable_cells:
        if index in keys_by_index:
            unreadable_by_row.setdefault(row, set()).add(keys_by_index[index])
    for row, values in sheet.rows:
        cells = column_map.cells_of(values, cell_text)
        blocked = frozenset(unreadable_by_row.get(row, ()))
        not_text = frozenset(
            key
            for index, key in text_columns
            if index < len(values) and typed_not_text(values[index])
        )
        if not cells and not blocked:
            continue
        if is_example(cells):
            skipped_examples.append(row)
            continue
        count += 1
        if count > max_rows:
            raise too_many_rows()
        yield row, cells, blocked, not_text


def _batches(items: Iterable[RowInput], size: int) -> Iterator[list[RowInput]]:
    batch: list[RowInput] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_sheet(
    sheet: SheetRows | None,
    context: RowContext,
    *,
    executor: Executor | None = None,
    sink: Sink | None = None,
    batch_rows: int = BATCH_ROWS,
    max_in_flight: int = 4,
    max_rows: int = MAX_ROWS,
) -> SheetCheck:
    if sheet is None:
        return SheetCheck(FileFacts.of(None))
    column_map = map_headers(sheet.headers)
    skipped: list[int] = []
    outcomes: list[CheckedRow] = []
    keep_cells = sink is not None

    def take(checked: list[CheckedRow]) -> None:
        if sink is not None:
            sink(checked)
            outcomes.extend(c.outcome() for c in checked)
        else:
            outcomes.extend(checked)

    batches = _batches(row_inputs(sheet, column_map, skipped, max_rows), batch_rows)
    if executor is None:
        for batch in batches:
            take(check_batch(batch, context, keep_cells))
    else:
        # Bounded in flight: memory stays flat however long the file is.
        pending: deque[Future[list[CheckedRow]]] = deque()
        for batch in batches:
            pending.append(executor.submit(check_batch, batch, context, keep_cells))
            while len(pending) >= max_in_flight:
                take(pending.popleft().result())
        while pending:
            take(pending.popleft().result())
    facts = FileFacts.of(column_map, sheet_warnings=sheet.warnings, skipped_examples=skipped)
    return SheetCheck(facts, outcomes, column_map)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool for the row checks. ``fork`` (cheap, inherits the imported rules) from a
    single-threaded process such as the CLI; ``forkserver`` inside the multi-threaded service."""
    method = "fork" if _single_threaded() else "forkserver"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


def _single_threaded() -> bool:
    return threading.active_count() == 1
