"""Shipped with the service because the benchmarks (bench/) use them: numbered valid client forms
(samples.py) and a local fake of the VIES register's HTTP API (vies_fake.py). The in-memory
fakes of the ports live with the tests (tests/fakes.py)."""
