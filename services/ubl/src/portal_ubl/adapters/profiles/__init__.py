"""UBL profiles per accounting software: one module each, found by name in :mod:`.registry`."""
