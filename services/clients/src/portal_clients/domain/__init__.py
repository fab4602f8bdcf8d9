"""What a client, a group and an office's settings are, and how they change: no I/O here."""
