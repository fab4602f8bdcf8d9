"""QuickXorHash, the hash OneDrive for Business and SharePoint report for a file
(``file.hashes.quickXorHash``; they report no sha1 or sha256 there).

Byte ``i`` is XORed into a 160-bit register at bit ``(11 · i) mod 160`` (wrapping round), then
the length (64 bits, little-endian) is XORed into the last 8 of the 20 bytes; base64. Because
XOR is linear, every byte at the same position modulo 160 lands on the same bits: the input is
folded into one 160-byte row (big-integer XOR, in C) and only those 160 bytes are placed, so a
200 KB file costs microseconds, not a Python loop per byte.
"""

from __future__ import annotations

import base64

WIDTH = 160  # bits, and the period of the positions (11 and 160 are coprime)
_MASK = (1 << WIDTH) - 1


def _fold(data: bytes) -> bytes:
    """XOR of every 160-byte row of ``data`` (zero-padded), as one row."""
    row = WIDTH  # bytes per row: position i mod 160 shares its bits
    padded = data + bytes(-len(data) % row)
    value = int.from_bytes(padded, "little")
    rows = len(padded) // row
    while rows > 1:  # halve: XOR the upper half of the rows onto the lower half
        half = rows // 2
        upper = value >> (half * row * 8)
        value = (value & ((1 << (half * row * 8)) - 1)) ^ (upper & ((1 << (half * row * 8)) - 1))
        if rows % 2:  # the odd last row stays on top: fold it in too
            value ^= upper >> (half * row * 8)
        rows = half
    return value.to_bytes(row, "little")


def quickxor(data: bytes) -> str:
    register = 0
    for index, byte in enumerate(_fold(data)):
        if byte:
            shift = (index * 11) % WIDTH
            register ^= ((byte << shift) | (byte >> (WIDTH - shift))) & _MASK
    digest = bytearray(register.to_bytes(WIDTH // 8, "little"))
    for i, b in enumerate(len(data).to_bytes(8, "little")):
        digest[WIDTH // 8 - 8 + i] ^= b
    return base64.b64encode(bytes(digest)).decode()
