"""The composition root of the delivery service: real adapters here, fakes in tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from portal_contracts.values import TransferMethod
from portal_delivery.adapters.channels.registry import channel_factory
from portal_delivery.adapters.connections import CachedConnections, MongoConnections
from portal_delivery.adapters.destinations import MongoDestinations
from portal_delivery.adapters.files import GridFsDocumentFiles
from portal_delivery.adapters.ledger import MongoLedger
from portal_delivery.adapters.pull import MongoAgentKeys, MongoPullQueue
from portal_delivery.adapters.read_models import (
    MongoClientRoutes,
    MongoOfficeDefaults,
    MongoOfficeSenderNames,
    MongoWaitingDocuments,
)
from portal_delivery.adapters.secrets import SecretBox, key_from_text
from portal_delivery.config import Settings
from portal_delivery.domain.connections import Kind
from portal_delivery.domain.delivery import Problem
from portal_delivery.domain.retry import BreakerPolicy, RetryPolicy
from portal_delivery.ports import Channel, ConnectionStore, ConnectionTester, Probe
from portal_delivery.service.deps import Deps
from portal_servicekit.runtime import Runtime, open_runtime


@dataclass
class Service:
    settings: Settings
    runtime: Runtime
    deps: Deps

    async def prepare(self) -> None:
        """Create indexes (idempotent); run at start-up by every process."""
        deps = self.deps
        for store in (
            deps.routes,
            deps.waiting,
            deps.ledger,
            deps.connections,
            deps.agent_keys,
            deps.pull,
        ):
            ensure = getattr(store, "ensure_indexes", None)
            if ensure is not None:
                await ensure()

    async def close(self) -> None:
        await self.runtime.close()


def secret_box(settings: Settings) -> SecretBox:
    previous = [k for k in settings.secrets_previous_keys.get_secret_value().split(",") if k]
    keys = [settings.secrets_key.get_secret_value(), *previous]
    return SecretBox([key_from_text(k.strip()) for k in keys])


def bootstrap(settings: Settings | None = None, *, channel_worker: bool = False) -> Service:
    """``channel_worker``: a channel's worker reads connections through a short cache."""
    settings = settings or Settings()
    runtime = open_runtime("delivery", settings.platform, settings.database)
    db = runtime.db
    stored = MongoConnections(runtime, secret_box(settings))
    connections: ConnectionStore = CachedConnections(stored) if channel_worker else stored
    deps = Deps(
        routes=MongoClientRoutes(db),
        offices=MongoOfficeDefaults(db),
        sender_names=MongoOfficeSenderNames(db),
        waiting=MongoWaitingDocuments(db),
        ledger=MongoLedger(runtime),
        connections=connections,
        files=GridFsDocumentFiles(runtime.mongo[settings.blob_database], settings.blob_bucket),
        destinations=MongoDestinations(
            db,
            BreakerPolicy(
                failures_to_open=settings.breaker_failures,
                open_for=timedelta(seconds=settings.breaker_open_s),
                open_for_max=timedelta(seconds=settings.breaker_open_max_s),
            ),
        ),
        agent_keys=MongoAgentKeys(runtime),
        pull=MongoPullQueue(runtime),
        retry=RetryPolicy(
            base=timedelta(seconds=settings.retry_base_s),
            cap=timedelta(seconds=settings.retry_cap_s),
            give_up_after=timedelta(hours=settings.give_up_hours),
        ),
        lease=timedelta(seconds=settings.lease_s),
        agent_lease=timedelta(seconds=settings.agent_lease_s),
    )
    return Service(settings=settings, runtime=runtime, deps=deps)


def build_channel(settings: Settings, channel: TransferMethod) -> Channel:
    """The worker's channel, configured from the settings (imported only for that channel)."""
    factory = channel_factory(channel)
    if channel is TransferMethod.EMAIL:
        from portal_delivery.adapters.channels.email import SmtpRelay

        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        relay = SmtpRelay(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            message_id_domain=settings.message_id_domain,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=password,
            timeout_s=settings.smtp_timeout_s,
            connections=settings.smtp_connections,
        )
        return factory(relay)
    if channel is TransferMethod.SFTP:
        return factory(
            sessions_per_server=settings.sftp_sessions_per_server, timeout_s=settings.sftp_timeout_s
        )
    if channel is TransferMethod.ONEDRIVE:
        return factory(
            graph_url=settings.graph_url,
            login_url=settings.graph_login_url,
            fragment_units=settings.graph_fragment_units,
            uploads_per_tenant=settings.graph_uploads_per_tenant,
            timeout_s=settings.graph_timeout_s,
            box=secret_box(settings),  # seals the upload sessions' URLs noted in the ledger
        )
    if channel is TransferMethod.API:
        return factory(
            url=settings.clearfacts_url,
            uploads_per_token=settings.clearfacts_uploads_per_token,
            timeout_s=settings.clearfacts_timeout_s,
        )
    return factory()


class _AgentProbe:
    async def probe(self, connection: object) -> Probe:
        return Probe(None, Problem("agent.tested_by_the_agent", retryable=False))


def connection_tester(settings: Settings, kind: Kind) -> ConnectionTester:
    """What "test connection" runs for a kind (the channel's own probe; imported on demand)."""
    channel = {
        Kind.SFTP: TransferMethod.SFTP,
        Kind.ONEDRIVE: TransferMethod.ONEDRIVE,
        Kind.CLEARFACTS: TransferMethod.API,
    }.get(kind)
    if channel is None:
        return _AgentProbe()
    tester: ConnectionTester = build_channel(settings, channel)  # type: ignore[assignment]
    return tester
