"""The service chassis every service builds on: platform settings, the caller's identity from the
gateway's JWT, RFC 9457 problem+json errors in the caller's language, health and readiness, the
MongoDB client, and the transactional-outbox relay."""
