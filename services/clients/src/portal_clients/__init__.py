"""The clients service: clients, groups and the office's general settings; the source of
ClientCreated / ClientUpdated, and the consumer of ImportValidated, ClientInvited and
ClientActivated."""
