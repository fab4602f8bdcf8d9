"""A FastStream ``KafkaBroker`` with the reliability settings of INFRA.md, and safe publishing.

- Producer: ``acks="all"`` and an idempotent producer; every event is published keyed by its
  aggregate id so one client's (one document's) events stay in order.
- Consumers: subscribe with :func:`subscriber_options` (no auto-commit, ``NACK_ON_ERROR``): the
  offset is committed only once the handler returned.
- Poison messages: :class:`DeadLetterPolicy` retries a failing message a bounded number of times
  (with backoff), then publishes it to ``<topic>.dlt`` with the error in headers and lets the
  partition move on. A message is thus never lost and never blocks its partition forever.
- Compacted topics (``Topics.compacted()``, e.g. ClientState) are made compacted where they do
  not exist yet (:func:`create_compacted_topics`): a local broker would auto-create them with the
  delete policy and lose each client's state after its retention. Production declares them
  (deploy/k8s/base/kafka-topics) and nothing is created there.
- Outages are not poison: an error of the infrastructure (database unreachable or busy, broker
  connection lost) is retried with capped backoff until it recovers, never dead-lettered — the
  message is fine, the world is not, and dead-lettering it would lose the work.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from faststream import AckPolicy, BaseMiddleware, StreamMessage
from faststream.kafka import KafkaBroker

from portal_contracts.envelope import Envelope
from portal_contracts.topics import DEAD_LETTER_SUFFIX, Topics

logger = logging.getLogger(__name__)

# Exception classes (matched by name along the MRO, so contracts need not import every driver)
# that mean "the infrastructure is unavailable right now", not "this message is bad".
TRANSIENT_ERRORS = frozenset(
    {
        "AutoReconnect",
        "ConnectionFailure",
        "NetworkTimeout",
        "ServerSelectionTimeoutError",
        "ExecutionTimeout",
        "WaitQueueTimeoutError",
        "KafkaConnectionError",
        "KafkaTimeoutError",
        "NodeNotReadyError",
        "RequestTimedOutError",
        "ConnectionError",
        "TimeoutError",
    }
)


def is_transient(exc: BaseException) -> bool:
    if any(cls.__name__ in TRANSIENT_ERRORS for cls in type(exc).__mro__):
        return True
    # MongoDB labels the errors a retry may cure (a write conflict, a step-down, a lost commit).
    has_label: Callable[[str], bool] | None = getattr(exc, "has_error_label", None)
    if has_label is None:
        return False
    return any(has_label(label) for label in ("TransientTransactionError", "RetryableWriteError"))


_MAX_ERROR_HEADER = 1000


@dataclass
class DeadLetterPolicy:
    """Bounded retries, then the dead-letter topic. One instance per broker.

    Attempts are counted per (topic, partition, offset) in this process: a NACK rewinds the
    partition, so the same record comes straight back and is counted again.
    """

    max_attempts: int = 3
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0
    transient: Callable[[BaseException], bool] = is_transient
    broker: KafkaBroker | None = None
    _attempts: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def __call__(self, msg: Any, /, **kwargs: Any) -> _DeadLetterMiddleware:
        return _DeadLetterMiddleware(msg, policy=self, **kwargs)

    def backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of many consumers hitting the same failing dependency.
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))  # noqa: S311


class _DeadLetterMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, policy: DeadLetterPolicy, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.policy = policy

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        record = msg.raw_message
        if isinstance(record, tuple) or record is None:  # batches handle their own failures
            return await call_next(msg)
        key = (record.topic, record.partition, record.offset)
        try:
            result = await call_next(msg)
        except Exception as exc:
            attempts = self.policy._attempts.get(key, 0) + 1
            self.policy._attempts[key] = attempts
            if self.policy.transient(exc):
                logger.warning(
                    "infrastructure unavailable on %s (attempt %d): %r", key, attempts, exc
                )
                await asyncio.sleep(self.policy.backoff(min(attempts, 8)))
                raise  # retried until the outage ends; never dead-lettered
            if attempts < self.policy.max_attempts or record.topic.endswith(DEAD_LETTER_SUFFIX):
                logger.warning("handler failed on %s (attempt %d): %r", key, attempts, exc)
                await asyncio.sleep(self.policy.backoff(attempts))
                raise  # NACK_ON_ERROR: rewinds the partition, the record comes back
            await self._dead_letter(record, exc, attempts)
            self.policy._attempts.pop(key, None)
            return None  # handled: the ack middleware commits and the partition moves on
        self.policy._attempts.pop(key, None)
        return result

    async def _dead_letter(self, record: Any, exc: Exception, attempts: int) -> None:
        broker = self.policy.broker
        if broker is None:
            raise RuntimeError("DeadLetterPolicy.broker is not set") from exc
        await publish_dead_letter(broker, record, exc, attempts)


async def publish_dead_letter(
    broker: KafkaBroker, record: Any, exc: Exception, attempts: int
) -> None:
    """Set a consumed record aside on ``<topic>.dlt``, its headers kept and the error added.

    Used by the broker's middleware for single records, and by batch consumers (which handle
    their own failures) for each record of a batch they give up on.
    """
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    headers.update(
        {
            "dlt-error": f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_HEADER],
            "dlt-attempts": str(attempts),
            "dlt-topic": record.topic,
            "dlt-partition": str(record.partition),
            "dlt-offset": str(record.offset),
        }
    )
    logger.error(
        "dead-lettering %s:%s@%s after %d attempts: %r",
        record.topic,
        record.partition,
        record.offset,
        attempts,
        exc,
    )
    await broker.publish(
        record.value, topic=record.topic + DEAD_LETTER_SUFFIX, key=record.key, headers=headers
    )


# How a compacted topic made here is configured (the production values: deploy/k8s topics.yaml).
COMPACTED_TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "min.compaction.lag.ms": str(60 * 60 * 1000),  # a consumer an hour behind sees every version
    "delete.retention.ms": str(24 * 60 * 60 * 1000),  # a tombstone stays a day
}


async def create_compacted_topics(
    bootstrap_servers: str, topics: Topics, *, partitions: int = 3, replicas: int = 1
) -> list[str]:
    """Create the compacted topics of ``topics`` that do not exist yet; returns those created.

    Where topics cannot be created (production: declared, and the services may not create
    them) it logs why and creates nothing; an existing topic is left as it is.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="portal-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in topics.compacted() if name not in existing]
        if missing:
            new = [
                NewTopic(n, partitions, replicas, topic_configs=COMPACTED_TOPIC_CONFIG)
                for n in missing
            ]
            await admin.create_topics(new)
        return missing
    except Exception as exc:
        logger.warning("compacted topics not created (%r); they must be declared", exc)
        return []
    finally:
        await admin.close()


def build_broker(
    bootstrap_servers: str,
    *,
    client_id: str,
    max_attempts: int = 3,
    graceful_timeout: float = 30.0,
    **kwargs: Any,
) -> KafkaBroker:
    """The one way services build their broker."""
    policy = DeadLetterPolicy(max_attempts=max_attempts)
    broker = KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15_000,
        graceful_timeout=graceful_timeout,  # above the slowest handler
        middlewares=[policy],
        **kwargs,
    )
    policy.broker = broker
    return broker


def subscriber_options(group_id: str, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``broker.subscriber`` / ``router.subscriber``: at-least-once."""
    options: dict[str, Any] = {
        "group_id": group_id,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
        "max_records": 1,
    }
    options.update(overrides)
    return options


async def publish_event(broker: KafkaBroker, topics: Topics, event: Envelope[Any]) -> None:
    """Publish an event on its topic, keyed by its aggregate id, with its id in headers."""
    await broker.publish(
        event.model_dump(mode="json"),
        topic=topics.of(type(event)),
        key=event.key(),
        headers={"event_id": str(event.event_id), "event_type": event.event_type},
        correlation_id=str(event.correlation_id),
    )


async def publish_encoded_event(
    broker: KafkaBroker,
    topic: str,
    body: bytes,
    *,
    key: bytes,
    event_id: str,
    event_type: str,
    correlation_id: str,
    no_confirm: bool = False,
) -> Any:
    """Publish an envelope already encoded as JSON, with publish_event's key and headers.

    For a publisher that builds (and measures) the exact bytes itself, e.g. the importer's
    chunks. ``no_confirm=True`` returns the pending acknowledgement to await later, so a batch
    can be queued at once; the idempotent producer keeps one key's messages in order.
    """
    return await broker.publish(
        body,
        topic=topic,
        key=key,
        headers={
            "event_id": event_id,
            "event_type": event_type,
            "content-type": "application/json",
        },
        correlation_id=correlation_id,
        no_confirm=no_confirm,
    )
