"""What hostile XML costs the UBL intake: time to refuse, peak RSS and RSS after, per case.

    uv run python bench/bench_ubl_xml_limits.py

Each case runs in a fresh interpreter (so one case's memory does not hide another's) that
imports the service, measures its RSS, hands the bytes to the intake conversion
(``portal_ubl.adapters.conversion.convert``, what ``POST /v1/documents`` runs in a thread) and
reports the outcome (the rule of the refusal, or "accepted"), the seconds it took, the peak RSS
(``VmHWM``) and the RSS once the call returned and the garbage was collected. Cases: 7 million
empty elements (28 MB), a nesting 1,000,000 deep, and for scale the largest genuine input, a UBL
of 10,000 invoice lines written by the service itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import gc, json, sys, time
from pathlib import Path

def status_mb(key):  # VmRSS now, VmHWM the peak (ru_maxrss would carry the parent's over exec)
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key))
    return int(line.split()[1]) / 1024

def rss_mb():
    return status_mb("VmRSS")

from portal_contracts.values import DocumentKind
from portal_ubl.adapters.conversion import convert
from portal_ubl.domain.document import SubmitDocument
from portal_ubl.domain.errors import RejectedDocument

data = Path(sys.argv[1]).read_bytes()
gc.collect()
before = rss_mb()
cmd = SubmitDocument("bench", "bench", DocumentKind.PURCHASE_INVOICE, xml=data)
start = time.perf_counter()
try:
    convert(cmd, None)
    outcome = "accepted"
except RejectedDocument as exc:
    outcome = ",".join(sorted({p.rule for p in exc.problems}))
seconds = time.perf_counter() - start
del cmd, data
gc.collect()
peak = status_mb("VmHWM")
print(json.dumps([outcome, seconds, before, peak, rss_mb()]))
"""

UBL = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'


def _cases(workdir: Path) -> list[tuple[str, Path]]:
    wide = workdir / "wide.xml"
    wide.write_bytes(UBL + b"<a/>" * 7_000_000 + b"</Invoice>")
    deep = workdir / "deep.xml"
    deep.write_bytes(UBL + b"<a>" * 1_000_000 + b"</a>" * 1_000_000 + b"</Invoice>")
    genuine = workdir / "genuine.xml"
    from portal_ubl.adapters.profiles.registry import get_profile
    from portal_ubl.adapters.ubl_writer import build_ubl
    from portal_ubl.intake import parse_invoice_data
    from portal_ubl.mapping import to_invoice
    from portal_ubl.samples import sample_data

    invoice = to_invoice(parse_invoice_data(sample_data(lines=10_000)))
    genuine.write_bytes(build_ubl(invoice, get_profile("peppol-bis3")))
    return [
        (f"7,000,000 empty elements ({wide.stat().st_size / 1e6:.0f} MB)", wide),
        (f"1,000,000 deep ({deep.stat().st_size / 1e6:.0f} MB)", deep),
        (f"genuine UBL, 10,000 lines ({genuine.stat().st_size / 1e6:.1f} MB)", genuine),
    ]


def main() -> None:
    print(f"{'case':<42}{'outcome':>14}{'s':>8}{'RSS before':>12}{'peak':>8}{'after':>8} (MB)")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in _cases(Path(tmp)):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            outcome, seconds, before, peak, after = json.loads(out.strip().splitlines()[-1])
            print(
                f"{label:<42}{outcome:>14}{seconds:>8.2f}{before:>12.0f}{peak:>8.0f}{after:>8.0f}"
            )


if __name__ == "__main__":
    main()
