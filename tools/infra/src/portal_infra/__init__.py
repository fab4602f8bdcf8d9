"""Real infrastructure without Docker: Apache Kafka from Maven Central and the MongoDB-wire server
(SecantusDB's ``secantusd-rs``) from crates.io, started on 127.0.0.1, plus the pytest fixtures and
the local stack launcher."""
