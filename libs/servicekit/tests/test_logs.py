"""configure_logging sets one format and level when nothing else did, and never overrides a host.

Run in a fresh interpreter: pytest itself puts handlers on the root logger of this one.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import logging, sys
from portal_servicekit.logs import configure_logging
if sys.argv[1] == "host":
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger().setLevel(logging.ERROR)
configure_logging()
root = logging.getLogger()
print(logging.getLevelName(root.level), [type(h).__name__ for h in root.handlers])
logging.getLogger("portal_importer.service").warning("phase read 0.05 s")
"""


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORTAL_LOG_LEVEL": "warning"}
    return subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )


def test_a_bare_process_logs_in_the_platform_format_at_the_chosen_level() -> None:
    done = _run("bare")
    assert done.stdout.strip() == "WARNING ['StreamHandler']"
    assert " WARNING portal_importer.service phase read 0.05 s" in done.stderr


def test_a_host_that_set_up_logging_is_left_alone() -> None:
    done = _run("host")
    assert done.stdout.strip() == "ERROR ['NullHandler']"
    assert done.stderr == ""
