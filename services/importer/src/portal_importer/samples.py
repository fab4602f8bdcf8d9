"""Sample client rows that pass every rule (valid VAT checksums, IBANs, Belgian mobiles), for
tests, the benchmark and demonstrations. Values are written as an accountant would type them."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

from openpyxl import Workbook, load_workbook

from portal_importer.adapters.xlsx_template import set_text, write_template
from portal_importer.domain.columns import BY_KEY, CATALOGUE


def belgian_vat(n: int) -> str:
    """A Belgian VAT number with a valid mod-97 check, e.g. ``BE0403.170.701``."""
    first8 = 1_000_000 + n % 8_999_999  # "0" and 7 digits
    check = 97 - first8 % 97
    digits = f"{first8:08d}{check:02d}"
    return f"BE{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def belgian_iban(n: int) -> str:
    account = 539_000_000_0 + n % 999_999_999
    bban = f"{account:010d}"[-10:]
    bban += f"{int(bban) % 97 or 97:02d}"
    rearranged = int(bban + "111400")  # "BE00" with B=11, E=14
    check = 98 - rearranged % 97
    iban = f"BE{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def client_row(n: int, *, language: str = "fr", mode: str = "accountant_managed") -> dict[str, str]:
    """Cells of one valid row, keyed by column key, with drop-down labels in ``language``."""
    labels = {
        key: BY_KEY[key]
        for key in ("company.vat_frequency", "company.subscription_mode", "user.language", "invite")
    }
    return {
        "company.vat_number": belgian_vat(n),
        "company.name": f"Société {n} SRL",
        "company.vat_frequency": labels["company.vat_frequency"].label("quarterly", language),
        "company.internal_reference": f"C-{n:06d}",
        "company.subscription_mode": labels["company.subscription_mode"].label(mode, language),
        "user.first_name": "Marie",
        "user.last_name": f"Lambert {n}",
        "user.email": f"client{n}@bureau-example.be",
        "user.mobile_phone": f"+32 47{n % 10} {n // 10 % 100:02d} {n // 1000 % 100:02d} {n // 100000 % 10}{n % 7}",
        "user.language": labels["user.language"].label("fr", language),
        "bank_accounts.0": belgian_iban(n),
        "invite": labels["invite"].label("yes" if n % 2 else "no", language),
    }


def fill_template(
    rows: Iterable[Mapping[str, str]], language: str = "fr", *, first_row: int = 3
) -> bytes:
    """The downloaded template (same language) with ``rows`` typed in from ``first_row``."""
    workbook = load_workbook(io.BytesIO(write_template(language)))
    sheet = workbook.worksheets[0]
    positions = {column.key: index for index, column in enumerate(CATALOGUE, start=1)}
    for offset, row in enumerate(rows):
        for key, value in row.items():
            set_text(sheet.cell(row=first_row + offset, column=positions[key]), value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_workbook(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A bare workbook (write-only, fast): one sheet, a header row and the rows as given."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Clients")
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
