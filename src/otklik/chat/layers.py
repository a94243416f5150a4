"""The embedded (one-process) channel layer: Channels' in-memory layer, swept less often.

Channels' `InMemoryChannelLayer` sweeps every channel and every group for expired
messages on each send and each receive. Every open socket waits in `receive`, so with
2 000 sockets each chat message cost three walks over ~3 000 entries on the event loop
(profiled: about a fifth of the server's CPU at 200 messages/s). Messages expire after a
minute; sweeping at most once a second changes nothing a socket can notice.
"""

import time

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """In-memory layer whose expiry sweep runs at most every `sweep_interval` seconds."""

    def __init__(self, *args, sweep_interval: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sweep_interval = sweep_interval
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_interval
        super()._clean_expired()
