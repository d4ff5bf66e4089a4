"""The schema's numbered migrations, written once for both backends. Append only: never edit
a migration that has shipped (deployed databases hold versions 1-10 of exactly this schema).

A migration's DDL names its types by role (`$id`, `$json`, …) and each dialect's `types`
spell them (bridge/store/dialect.py): BIGSERIAL ids, BYTEA payloads, JSONB for JSON text and DOUBLE PRECISION for epoch
seconds on PostgreSQL; timestamps stay ISO text on both, so both hand back the same strings.
`$ine` is PostgreSQL's IF NOT EXISTS (from version 4 on, so a later shared migration may add
objects a PostgreSQL-only one already made). PostgreSQL-only migrations (delivery claims of
status messages, attachment chunks) are numbered from `PG_ONLY_FROM`. Version
`REKEY_AT` recomputes every search key in its transaction.
"""

from __future__ import annotations

from string import Template

from bridge.store.dialect import POSTGRES, SQLITE, Dialect

PG_ONLY_FROM = 1000
REKEY_AT = 9  # the migration that empties the search keys: recomputed in its transaction

# The columns of an organ directory entry's state (migration 12), current and in its history.
_DIRECTORY_ENTRY = """
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            mail TEXT NOT NULL,
            pid TEXT NOT NULL,
            old_codes TEXT NOT NULL,
            center_code TEXT NOT NULL,
            is_agency $bool,
            deleted $bool,
            modified TEXT,
            version $bigint NOT NULL,"""

_SHARED: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE records (
            id $id,
            source TEXT NOT NULL,
            unit TEXT NOT NULL,
            external_id TEXT NOT NULL,
            version TEXT NOT NULL,
            media_type TEXT NOT NULL,
            payload $blob NOT NULL,
            attachments $json NOT NULL,
            ack TEXT,
            error TEXT,
            received_at TEXT NOT NULL,
            acked $bool,
            outcome TEXT,
            document_id $bigint,
            decision $json,
            UNIQUE (source, unit, external_id, version)
        );
        CREATE INDEX records_unprocessed ON records (id) WHERE outcome IS NULL;
        CREATE INDEX records_unacked ON records (source, id) WHERE $not_acked;
        CREATE INDEX records_document ON records (document_id);

        CREATE TABLE cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE documents (
            id $id,
            triple TEXT,
            issuer_code TEXT,
            issuer_key TEXT,
            fallback TEXT,
            state TEXT NOT NULL,
            revision INTEGER NOT NULL,
            data $json NOT NULL,
            conflicts $json NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX documents_triple ON documents (triple);
        CREATE INDEX documents_fallback ON documents (fallback);

        CREATE TABLE attachment_index (
            sha256 TEXT NOT NULL,
            document_id $bigint NOT NULL,
            PRIMARY KEY (sha256, document_id)
        );

        CREATE TABLE revisions (
            document_id $bigint NOT NULL,
            revision INTEGER NOT NULL,
            record_id $bigint NOT NULL,
            data $json NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (document_id, revision)
        );

        CREATE TABLE outbox (
            id $id,
            document_id $bigint NOT NULL,
            unit TEXT NOT NULL,
            sink TEXT NOT NULL,
            op TEXT NOT NULL,
            revision INTEGER NOT NULL,
            key TEXT NOT NULL UNIQUE,
            body $json,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at $real NOT NULL DEFAULT 0,
            last_error TEXT,
            remote_id TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT,
            UNIQUE (document_id, unit, sink, op, revision)
        );
        CREATE INDEX outbox_due ON outbox (sink, next_attempt_at) WHERE state = 'pending';
        CREATE INDEX outbox_document ON outbox (document_id, unit, sink);

        CREATE TABLE quarantine (
            id $id,
            record_id $bigint NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            released_at TEXT
        );

        CREATE TABLE hook_events (
            name TEXT NOT NULL,
            event_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (name, event_id)
        );

        CREATE TABLE status_events (
            id $id,
            document_id $bigint,
            sink TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            status TEXT NOT NULL,
            note TEXT,
            updated_at TEXT NOT NULL,
            UNIQUE (sink, remote_id, status)
        );

        CREATE TABLE audit (
            id $id,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail $json NOT NULL DEFAULT '{}'
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE status_out (
            id $id,
            record_id $bigint NOT NULL,
            source TEXT NOT NULL,
            code TEXT NOT NULL,
            description TEXT NOT NULL,
            from_organ TEXT NOT NULL,
            to_organ $json NOT NULL,
            ref $json NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at $real NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_id TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (record_id, code)
        );
        CREATE INDEX status_out_due ON status_out (source, next_attempt_at) WHERE state = 'pending';

        CREATE TABLE overrides (
            record_key TEXT PRIMARY KEY,
            document_id $bigint,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        ALTER TABLE records ADD COLUMN released $bool;
        CREATE INDEX quarantine_open ON quarantine (id) WHERE released_at IS NULL;
        CREATE INDEX audit_at ON audit (at)
        """,
    ),
    # Leases of sources, and delivery claims (bridge/store/sql/leases.py, dialect.pick).
    (
        4,
        """
        CREATE TABLE$ine leases (
            resource TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            token $bigint NOT NULL,
            expires_at $real NOT NULL
        );
        ALTER TABLE outbox ADD COLUMN$ine claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN$ine claimed_until $real
        """,
    ),
    (
        5,
        """
        ALTER TABLE documents ADD COLUMN$ine search_key TEXT NOT NULL DEFAULT '';
        CREATE INDEX$ine quarantine_review ON quarantine (record_id)
            WHERE kind = 'review' AND released_at IS NULL
        """,
    ),
    # Work found without sorting or scanning everything: due deliveries and replies oldest
    # first (with a backlog of tens of thousands, the sort made each look for work cost more
    # than the deliveries it found), records waiting for their document, and the delivery a
    # home system's status report is about.
    (
        6,
        """
        CREATE INDEX$ine outbox_pending ON outbox (sink, id) WHERE state = 'pending';
        CREATE INDEX$ine status_out_pending ON status_out (source, id) WHERE state = 'pending';
        CREATE INDEX$ine records_waiting ON records (id) WHERE outcome = 'waiting';
        CREATE INDEX$ine outbox_remote ON outbox (sink, remote_id)
        """,
    ),
    # Documents whose processing at home is not finished, found from an index of their own:
    # the status poller walks them in rounds instead of scanning every delivered document
    # (and asking only about the oldest fifty, for ever, once fifty stay unfinished).
    (
        7,
        """
        ALTER TABLE outbox ADD COLUMN$ine status_final INTEGER NOT NULL DEFAULT 0;
        UPDATE outbox SET status_final = 1 WHERE op = 'create' AND state = 'delivered'
            AND EXISTS (SELECT 1 FROM status_events e WHERE e.sink = outbox.sink
            AND e.remote_id = outbox.remote_id AND e.status IN ('done', 'rejected'));
        CREATE INDEX$ine outbox_status_open ON outbox (sink, id)
            WHERE op = 'create' AND state = 'delivered' AND status_final = 0
        """,
    ),
    # Corrections of a delivered document (a later road wrote a field better): the note the
    # home system's clerk is shown with the PATCH, kept with its outbox row.
    (8, "ALTER TABLE outbox ADD COLUMN$ine note TEXT"),
    # Search as clerks type (bridge/domain/search.py): the keys lose their diacritics and the
    # symbol's separators (REKEY_AT).
    (9, "UPDATE documents SET search_key = ''"),
    # Alerts (bridge/alerts): what each channel was told, so a restart tells nobody twice; and
    # the counts the alerts watch found from indexes (dead letters, 01s not yet sent).
    (
        10,
        """
        CREATE TABLE IF NOT EXISTS alerts (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            firing $bool,
            since TEXT NOT NULL,
            ended_at TEXT,
            detail $json NOT NULL,
            told $json NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (id) WHERE state = 'dead';
        CREATE INDEX IF NOT EXISTS status_out_unsent ON status_out (code, created_at) WHERE state <> 'sent'
        """,
    ),
    # An operator's controls of an endpoint that outlive a restart (a paused source).
    (
        11,
        """
        CREATE TABLE IF NOT EXISTS endpoint_controls (
            name TEXT PRIMARY KEY,
            paused $bool,
            actor TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    ),
    # The organ directory synced from the axis (bridge/directory_sync.py): each entry's
    # current state, every state it had (appended, never overwritten: the dated codes and
    # names the resolver reads), and the sync's version, time and last error.
    (
        12,
        """
        CREATE TABLE IF NOT EXISTS directory_entries (
            entry_id TEXT PRIMARY KEY,"""
        + _DIRECTORY_ENTRY
        + """
            updated_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS directory_entries_code ON directory_entries (code);
        CREATE TABLE IF NOT EXISTS directory_history (
            id $id,
            entry_id TEXT NOT NULL,"""
        + _DIRECTORY_ENTRY
        + """
            observed_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS directory_history_entry
            ON directory_history (entry_id, version);
        CREATE TABLE IF NOT EXISTS directory_sync (
            id INTEGER PRIMARY KEY,
            version $bigint NOT NULL,
            synced_at TEXT,
            last_error TEXT,
            failed_at TEXT
        )
        """,
    ),
]
_PG_ONLY: list[tuple[int, str]] = [
    (
        PG_ONLY_FROM + 1,
        """
        ALTER TABLE status_out ADD COLUMN IF NOT EXISTS claimed_by TEXT;
        ALTER TABLE status_out ADD COLUMN IF NOT EXISTS claimed_until DOUBLE PRECISION;
        CREATE TABLE IF NOT EXISTS blobs (
            sha256 TEXT PRIMARY KEY,
            size BIGINT NOT NULL,
            chunks INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS blob_chunks (
            sha256 TEXT NOT NULL,
            seq INTEGER NOT NULL,
            bytes BYTEA NOT NULL,
            PRIMARY KEY (sha256, seq)
        );
        """,
    ),
]


def _render(dialect: Dialect) -> list[tuple[int, str]]:
    return [(v, Template(sql).substitute(dialect.types)) for v, sql in _SHARED]


MIGRATIONS = _render(SQLITE)
MIGRATIONS_PG = _render(POSTGRES) + _PG_ONLY

__all__ = ["MIGRATIONS", "MIGRATIONS_PG", "PG_ONLY_FROM", "REKEY_AT"]
