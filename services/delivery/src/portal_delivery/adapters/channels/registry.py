"""Delivery channels by name, each a module wrapping one library, imported only when a worker of
that channel starts (the e-mail worker never loads asyncssh)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from portal_contracts.values import TransferMethod
from portal_delivery.ports import Channel

# channel -> (module, factory); the factory takes the worker's settings.
CHANNELS: dict[TransferMethod, tuple[str, str]] = {
    TransferMethod.EMAIL: ("portal_delivery.adapters.channels.email", "EmailChannel"),
    TransferMethod.SFTP: ("portal_delivery.adapters.channels.sftp", "SftpChannel"),
    TransferMethod.ONEDRIVE: ("portal_delivery.adapters.channels.onedrive", "OneDriveChannel"),
    TransferMethod.API: ("portal_delivery.adapters.channels.clearfacts", "ClearfactsChannel"),
}


class UnknownChannel(LookupError):
    pass


def channel_factory(channel: TransferMethod) -> Callable[..., Channel]:
    if channel not in CHANNELS:
        built = ", ".join(sorted(c.value for c in CHANNELS))
        raise UnknownChannel(f"no worker for channel {channel.value!r} (built: {built})")
    module, name = CHANNELS[channel]
    factory: Any = getattr(importlib.import_module(module), name)
    return factory  # type: ignore[no-any-return]
