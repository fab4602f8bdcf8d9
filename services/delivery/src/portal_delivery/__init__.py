"""Delivery service: sends each ready document (UBL + PDF) to the office's accounting software by
the channel set for the client. So far it keeps its read model of the clients' integration
settings from ClientCreated/ClientUpdated; the channels are the next issue."""
