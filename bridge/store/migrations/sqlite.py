"""Numbered schema migrations of the SQLite backend. Append only: never edit one that shipped."""

from __future__ import annotations

# Leases (bridge/store/sql/leases.py) and delivery claims: migration 4.
LEASES_SQLITE_DDL = """
CREATE TABLE leases (
    resource TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until REAL;
"""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            unit TEXT NOT NULL,
            external_id TEXT NOT NULL,
            version TEXT NOT NULL,
            media_type TEXT NOT NULL,
            payload BLOB NOT NULL,
            attachments TEXT NOT NULL,
            ack TEXT,
            error TEXT,
            received_at TEXT NOT NULL,
            acked INTEGER NOT NULL DEFAULT 0,
            outcome TEXT,
            document_id INTEGER,
            decision TEXT,
            UNIQUE (source, unit, external_id, version)
        );
        CREATE INDEX records_unprocessed ON records (id) WHERE outcome IS NULL;
        CREATE INDEX records_unacked ON records (source, id) WHERE acked = 0;
        CREATE INDEX records_document ON records (document_id);

        CREATE TABLE cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            triple TEXT,
            issuer_code TEXT,
            issuer_key TEXT,
            fallback TEXT,
            state TEXT NOT NULL,
            revision INTEGER NOT NULL,
            data TEXT NOT NULL,
            conflicts TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX documents_triple ON documents (triple);
        CREATE INDEX documents_fallback ON documents (fallback);

        CREATE TABLE attachment_index (
            sha256 TEXT NOT NULL,
            document_id INTEGER NOT NULL,
            PRIMARY KEY (sha256, document_id)
        );

        CREATE TABLE revisions (
            document_id INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            record_id INTEGER NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (document_id, revision)
        );

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL,
            unit TEXT NOT NULL,
            sink TEXT NOT NULL,
            op TEXT NOT NULL,
            revision INTEGER NOT NULL,
            key TEXT NOT NULL UNIQUE,
            body TEXT,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            remote_id TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT,
            UNIQUE (document_id, unit, sink, op, revision)
        );
        CREATE INDEX outbox_due ON outbox (sink, next_attempt_at) WHERE state = 'pending';
        CREATE INDEX outbox_document ON outbox (document_id, unit, sink);

        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            record_id INTEGER NOT NULL UNIQUE,
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
            id INTEGER PRIMARY KEY,
            document_id INTEGER,
            sink TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            status TEXT NOT NULL,
            note TEXT,
            updated_at TEXT NOT NULL,
            UNIQUE (sink, remote_id, status)
        );

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE status_out (
            id INTEGER PRIMARY KEY,
            record_id INTEGER NOT NULL,
            source TEXT NOT NULL,
            code TEXT NOT NULL,
            description TEXT NOT NULL,
            from_organ TEXT NOT NULL,
            to_organ TEXT NOT NULL,
            ref TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_id TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (record_id, code)
        );
        CREATE INDEX status_out_due ON status_out (source, next_attempt_at) WHERE state = 'pending';

        CREATE TABLE overrides (
            record_key TEXT PRIMARY KEY,
            document_id INTEGER,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        ALTER TABLE records ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX quarantine_open ON quarantine (id) WHERE released_at IS NULL;
        CREATE INDEX audit_at ON audit (at)
        """,
    ),
    (4, LEASES_SQLITE_DDL),
    (
        5,
        """
        ALTER TABLE documents ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
        CREATE INDEX quarantine_review ON quarantine (record_id) WHERE kind = 'review' AND released_at IS NULL
        """,
    ),
    # Work found without sorting or scanning everything: due deliveries and replies oldest
    # first (with a backlog of tens of thousands, the sort made each look for work cost more
    # than the deliveries it found), records waiting for their document, and the delivery a
    # home system's status report is about.
    (
        6,
        """
        CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 'pending';
        CREATE INDEX status_out_pending ON status_out (source, id) WHERE state = 'pending';
        CREATE INDEX records_waiting ON records (id) WHERE outcome = 'waiting';
        CREATE INDEX outbox_remote ON outbox (sink, remote_id)
        """,
    ),
    # Documents whose processing at home is not finished, found from an index of their own:
    # the status poller walks them in rounds instead of scanning every delivered document
    # (and asking only about the oldest fifty, for ever, once fifty stay unfinished).
    (
        7,
        """
        ALTER TABLE outbox ADD COLUMN status_final INTEGER NOT NULL DEFAULT 0;
        UPDATE outbox SET status_final = 1 WHERE op = 'create' AND state = 'delivered'
            AND EXISTS (SELECT 1 FROM status_events e WHERE e.sink = outbox.sink
            AND e.remote_id = outbox.remote_id AND e.status IN ('done', 'rejected'));
        CREATE INDEX outbox_status_open ON outbox (sink, id)
            WHERE op = 'create' AND state = 'delivered' AND status_final = 0
        """,
    ),
    # Corrections of a delivered document (a later road wrote a field better): the note the
    # home system's clerk is shown with the PATCH, kept with its outbox row.
    (
        8,
        """
        ALTER TABLE outbox ADD COLUMN note TEXT
        """,
    ),
    # Search as clerks type (bridge/store/search.py): the keys lose their diacritics and the
    # symbol's separators. The store recomputes every key in this migration's transaction
    # (search.REKEY_AT).
    (9, "UPDATE documents SET search_key = ''"),
]
