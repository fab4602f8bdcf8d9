"""Test support shipped with the service: a fake VIES server (also used by the benchmark)."""
