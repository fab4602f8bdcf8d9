"""Edges: HTTP (FastAPI), command line, Kafka consumers and the worker."""
