"""The local provider's notifications, posted to the city over one kept-alive connection.

A connection a notification costs the city an accepted socket and a new HTTP connection of
its server's, about as much as the notification itself; the provider's one delivery
thread keeps its connection instead, as a bank's notifier would. A kept connection the
city closed meanwhile is met by the next post: that post is sent once more, on a new
connection (a notification the city did take answers the second time 409, replayed,
which counts as delivered). Redirects are not followed: a notification goes where it was
configured to go, or is retried.
"""

from __future__ import annotations

import http.client
import logging
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.integrations.provider_ledger import Message
from mycity.integrations.webhooks import sign

log = logging.getLogger(__name__)
# What a kept connection the city closed meanwhile looks like (a timeout is not one of them:
# a city slow to answer is not asked twice at once).
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Courier:
    def __init__(self, url: str, key: Ed25519PrivateKey, timeout: float) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.netloc
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.key = key
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def post(self, message: Message) -> int | None:
        """One delivery of one message, signed now: the status the city answered, or None
        if it did not answer."""
        kept = self._connection is not None
        try:
            return self._send(message)
        except STALE as e:
            self.close()
            if not kept:
                log.info("notification %s: no answer (%s)", message.id, e)
                return None
        except (OSError, http.client.HTTPException) as e:
            self.close()
            log.info("notification %s: no answer (%s)", message.id, e)
            return None
        return self.post(message)  # the kept connection had been closed: on a new one

    def _send(self, message: Message) -> int:
        headers = sign(self.key, message.id, int(time.time()), message.body)
        headers["content-type"] = "application/json"
        connection = self._connection or self._open()
        connection.request("POST", self.path, body=message.body, headers=headers)
        answer = connection.getresponse()
        answer.read()  # the whole answer, so the connection can carry the next
        if answer.will_close:
            self.close()
        return answer.status

    def _open(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        self._connection = kind(self.host, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
