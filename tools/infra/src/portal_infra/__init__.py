"""Real infrastructure without Docker: Apache Kafka from Maven Central and FerretDB from the Go
module proxy, started on 127.0.0.1, plus the pytest fixtures and the local stack launcher."""
