"""
Database routing for an Aurora reader endpoint (DATABASE_READER_URL).

When the reader is configured, settings.py adds it as the ``reader`` database and installs
this router. Reads of heroes go to the reader, which is what replicas are for: the hero
reads are the traffic that grows. Everything else stays on the writer:

* writes, always;
* any read inside a transaction on the writer (a service's SELECT ... FOR UPDATE, the
  version read before an update, the admin's change form), so that a transaction sees
  its own rows and locks what it will change;
* reads of every other model (users, sessions, API tokens, the cache-debt ledger): they
  are small, and a user who has just signed in must not be told by a lagging replica
  that the session does not exist.

A replica lags its writer (Aurora: typically tens of milliseconds). The cache layer is
built so that the lag cannot make it serve a replaced value where it can know better:
writes fill the cache from the values just written, never from a read; a read-miss's
write-back is version-checked, so a replica's older row never replaces a newer entry;
and a miss on an entry that a write invalidated or deleted knows the version it needs
and re-reads the row from the writer when the reader returns an older one
(heroes/selectors.py).
"""

from django.db import connections

WRITER = "default"
READER = "reader"

# Models whose plain reads may be served by the reader.
REPLICA_READ_MODELS = {"heroes.hero"}


class ReaderRouter:
    def db_for_read(self, model, **hints) -> str:
        if model._meta.label_lower not in REPLICA_READ_MODELS:
            return WRITER
        if connections[WRITER].in_atomic_block:
            return WRITER
        return READER

    def db_for_write(self, model, **hints) -> str:
        return WRITER

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases are the same database, seen through two endpoints.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # Replicas receive the schema from their writer; migrating them would fail
        # (they are read-only) or diverge.
        return db == WRITER
