"""Whether an imported client is visible: its import must be committed.

FerretDB 1.24 (SQLite) rewrites a document with a statement that scans the whole collection
(measured: one update ~100 ms in a 10,000-client collection, so flipping 10,000 clients one by one
would take about 20 minutes). So an import's clients are never updated to become visible: they
are inserted with ``visible: false`` and become visible, all at once, when their import document
says ``committed`` (one small write). "Committed" is final, so it is remembered in memory.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


class ImportStates:
    def __init__(self, imports: AsyncCollection[Document]) -> None:
        self.imports = imports
        self._committed: set[str] = set()

    async def state(self, key: str) -> str | None:
        if key in self._committed:
            return "committed"
        doc = await self.imports.find_one({"_id": key}, {"state": 1})
        state = doc["state"] if doc else None
        if state == "committed":
            self._committed.add(key)
        return state

    async def visible(self, head: Document) -> bool:
        if head.get("visible", True):
            return True
        key = head.get("import_ref") or ""
        return bool(key) and await self.state(key) == "committed"
