"""A Redis lock store that refuses to start without Redis and degrades when it drops.

Several Rasa servers share conversations only safely when one lock store
serialises each conversation's messages. Rasa's `RedisLockStore` connects lazily,
so a wrong address shows up only as failed customer messages. This store:

- makes every change of a conversation's lock atomic across servers (a short
  Redis mutex around each read-modify-write): Rasa's own store reads the lock,
  changes it and writes it back, so two servers taking a ticket at the same
  instant both got "ticket 0" and handled one conversation's messages at once;
- checks Redis when the server starts and refuses to start with a clear error
  (an orchestrator restarts the process; the other replicas keep serving);
- if Redis goes away while running, logs an ERROR and falls back to locks local to
  this process, so customers keep getting answers; it tries Redis again every
  `retry_seconds` and logs when it is back. During such an outage two messages of
  the same conversation that reach two different servers at the same instant are
  not serialised: the README says so;
- drops the tickets of a server that died: each server says it is alive in Redis
  every HEARTBEAT_SECONDS and each ticket records its server, so a waiting server
  removes a ticket whose server has been silent for ALIVE_SECONDS. Rasa's tickets
  only expire after their lifetime (60 s), so a conversation whose message was being
  handled when its server was killed stayed blocked for a minute: the customer's
  resend was answered after 60 s or never (a flaky scale test, 1 of ~140 messages,
  in three CI runs).

endpoints.production.yml selects it: `type: bot.lock_store.ResilientRedisLockStore`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, Text, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_RETRY_SECONDS = 5.0
# A lock change takes a few Redis round trips; a holder that died frees it after this.
MUTEX_SECONDS = 5.0
# Each server refreshes its "alive" key this often; one silent for ALIVE_SECONDS is
# dead (a killed process, not a slow turn: the heartbeat is a thread, not the loop).
HEARTBEAT_SECONDS = 1.0
ALIVE_SECONDS = 5


class LockStoreUnavailable(RuntimeError):
    """Redis is configured as the lock store but cannot be reached at start-up."""


class ResilientRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with a start-up check and a local fallback."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        options = dict(endpoint_config.kwargs) if endpoint_config else {}
        options.update(kwargs)
        retry_seconds = float(options.pop("retry_seconds", retry_seconds))
        host = (endpoint_config.url if endpoint_config else None) or options.pop(
            "host", "localhost"
        )
        options.pop("host", None)
        super().__init__(host=host, **options)
        self._address = f"{host}:{options.get('port', 6379)}/{options.get('db', 1)}"
        self._local = InMemoryLockStore()
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._down_since: Optional[float] = None
        self._last_try = 0.0
        # Keys beside the locks, under a prefix no conversation id can produce.
        self._meta_prefix = self.key_prefix[: -len("lock:")] + "lockmeta:" \
            if self.key_prefix.endswith("lock:") else self.key_prefix + "meta:"
        self.server_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stopped = threading.Event()
        try:
            self.red.ping()
        except Exception as error:
            logger.error(
                "Lock store: Redis at %s is unreachable (%s). Refusing to start: several "
                "Rasa servers without a shared lock store would mix up conversations. "
                "Start Redis, or use endpoints.yml (one process, in-memory locks).",
                self._address, error,
            )
            raise LockStoreUnavailable(f"Redis lock store at {self._address} unreachable") \
                from error
        logger.info("Lock store: Redis at %s", self._address)
        self._beat()
        threading.Thread(target=self._heartbeat, name="lock-store-heartbeat",
                         daemon=True).start()

    def _alive_key(self, server_id: Text) -> Text:
        return f"{self._meta_prefix}alive:{server_id}"

    def _owners_key(self, conversation_id: Text) -> Text:
        return f"{self._meta_prefix}owners:{conversation_id}"

    def _beat(self) -> None:
        try:
            self.red.set(self._alive_key(self.server_id), 1, ex=ALIVE_SECONDS)
        except Exception:  # Redis down: the lock calls notice and degrade
            logger.debug("Lock store: heartbeat not written")

    def _heartbeat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            self._beat()

    def close(self) -> None:
        """Stops saying this server is alive (its tickets are then dropped)."""
        self._stopped.set()

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and locks are local to this process."""
        return self._down_since is not None

    def _use_redis(self) -> bool:
        """Whether to try Redis now (always, unless down and not yet time to retry)."""
        if self._down_since is None:
            return True
        return self._clock() - self._last_try >= self._retry_seconds

    def _failed(self, error: Exception) -> None:
        self._last_try = self._clock()
        if self._down_since is None:
            self._down_since = self._last_try
            logger.error(
                "Lock store: Redis at %s failed (%s). Degraded mode: locks are "
                "local to this process until Redis is back (retry every %.0f s).",
                self._address, error, self._retry_seconds,
            )

    def _call(self, redis_call: Callable[[], T], local_call: Callable[[], T]) -> T:
        if self._use_redis():
            try:
                result = redis_call()
            except Exception as error:
                self._failed(error)
            else:
                if self._down_since is not None:
                    logger.warning("Lock store: Redis at %s is back after %.0f s.",
                                   self._address, self._clock() - self._down_since)
                    self._down_since = None
                return result
        return local_call()

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._call(lambda: super(ResilientRedisLockStore, self).get_lock(conversation_id),
                          lambda: self._local.get_lock(conversation_id))

    def delete_lock(self, conversation_id: Text) -> None:
        # Both places: a lock taken locally during an outage must not outlive it.
        self._local.delete_lock(conversation_id)
        self._call(lambda: super(ResilientRedisLockStore, self).delete_lock(conversation_id),
                   lambda: None)

    def save_lock(self, lock: TicketLock) -> None:
        self._call(lambda: super(ResilientRedisLockStore, self).save_lock(lock),
                   lambda: self._local.save_lock(lock))

    @contextmanager
    def _atomic(self, conversation_id: Text) -> Iterator[None]:
        """Holds the conversation's Redis mutex (nothing to hold in degraded mode:
        local changes never await, so they cannot interleave)."""
        if not self._use_redis():
            yield
            return
        mutex = self.red.lock(f"{self._meta_prefix}mutex:{conversation_id}",
                              timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS)
        try:
            acquired = mutex.acquire()
        except Exception as error:
            self._failed(error)
            acquired = False
        try:
            yield
        finally:
            if acquired:
                try:
                    mutex.release()
                except Exception:  # expired or Redis gone: it frees itself
                    logger.debug("Lock store: mutex of %s already released", conversation_id)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._atomic(conversation_id):
            number = super().issue_ticket(conversation_id, lock_lifetime)
            if not self.degraded:
                self._call(lambda: self._own(conversation_id, number, lock_lifetime),
                           lambda: None)
            return number

    def _own(self, conversation_id: Text, number: int, lifetime: float) -> None:
        key = self._owners_key(conversation_id)
        pipe = self.red.pipeline()
        pipe.hset(key, str(number), self.server_id)
        pipe.expire(key, int(lifetime) + ALIVE_SECONDS)
        pipe.execute()

    def update_lock(self, conversation_id: Text) -> None:
        """Rasa's update (expired tickets removed), and the tickets of dead servers."""
        with self._atomic(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_expired_tickets()
            if not self.degraded:
                self._call(lambda: self._drop_orphans(lock), lambda: None)
            self.save_lock(lock)

    def _drop_orphans(self, lock: TicketLock) -> None:
        owners_key = self._owners_key(lock.conversation_id)
        owners: Dict[bytes, bytes] = self.red.hgetall(owners_key)
        alive: Dict[bytes, bool] = {}
        for ticket in list(lock.tickets):
            owner = owners.get(str(ticket.number).encode())
            if owner is None or owner == self.server_id.encode():
                continue
            if owner not in alive:
                alive[owner] = bool(self.red.exists(self._alive_key(owner.decode())))
            if not alive[owner]:
                lock.remove_ticket_for(ticket.number)
                self.red.hdel(owners_key, str(ticket.number))
                logger.warning("Lock store: ticket %s of conversation %s dropped: its "
                               "server %s stopped while holding it", ticket.number,
                               lock.conversation_id, owner.decode())

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        with self._atomic(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # Rasa's version calls finish_serving and then deletes in two steps; here
        # both happen under one mutex so a ticket issued in between is never lost.
        with self._atomic(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            owners_key = self._owners_key(conversation_id)
            if lock.is_someone_waiting():
                self.save_lock(lock)
                self._call(lambda: self.red.hdel(owners_key, str(ticket_number)),
                           lambda: None)
            else:
                self.delete_lock(conversation_id)
                self._call(lambda: self.red.delete(owners_key), lambda: None)
