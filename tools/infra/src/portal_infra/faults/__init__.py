"""Fault injection: the delivery path as processes, faults to inject while documents flow, and the
invariants checked at the receiving side (tests/faults, bench/faults.py)."""
