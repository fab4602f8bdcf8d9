"""Everything a delivery handler may use, wired by bootstrap.py (real adapters) or tests (fakes)."""

from __future__ import annotations

from dataclasses import dataclass

from portal_delivery.ports import ClientRoutes


@dataclass
class Deps:
    routes: ClientRoutes
