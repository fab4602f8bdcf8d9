"""One log format and level for every process of the platform.

uvicorn configures only its own loggers, so without this a service's own INFO lines (an import's
phases, a relay's progress) vanish when it runs behind ``uvicorn --factory``. Workers and HTTP
apps both call ``configure_logging``; it leaves alone a root logger that is already set up (a
test runner, an embedding host).
"""

from __future__ import annotations

import logging
import os

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str | None = None) -> None:
    """Level from ``level``, else ``PORTAL_LOG_LEVEL``, else INFO."""
    root = logging.getLogger()
    if root.handlers:
        return
    chosen = (level or os.environ.get("PORTAL_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=chosen, format=LOG_FORMAT)
