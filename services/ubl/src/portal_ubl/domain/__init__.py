"""The canonical invoice, its EN 16931 arithmetic and business checks: no I/O, no frameworks."""
