"""Use cases: submit a document, keep the clients' settings; nothing here knows Mongo or Kafka."""
