"""Numbered schema migrations of the PostgreSQL backend. Append only.

Versions below 1000 mirror `bridge.store.migrations.MIGRATIONS` one for one (same tables and
column names; BYTEA for payloads, BIGSERIAL ids, JSONB for JSON text, DOUBLE PRECISION for
epoch seconds; timestamps stay ISO text so both backends hand back the same strings). Versions
from 1000 on exist only here: what several instances on one database need (delivery claims,
leases) and attachment chunks. They use IF NOT EXISTS so a later shared migration may add the
same objects to both backends.
"""

from __future__ import annotations

PG_ONLY_FROM = 1000

MIGRATIONS_PG: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE records (
            id BIGSERIAL PRIMARY KEY,
            source TEXT NOT NULL,
            unit TEXT NOT NULL,
            external_id TEXT NOT NULL,
            version TEXT NOT NULL,
            media_type TEXT NOT NULL,
            payload BYTEA NOT NULL,
            attachments JSONB NOT NULL,
            ack TEXT,
            error TEXT,
            received_at TEXT NOT NULL,
            acked BOOLEAN NOT NULL DEFAULT FALSE,
            outcome TEXT,
            document_id BIGINT,
            decision JSONB,
            UNIQUE (source, unit, external_id, version)
        );
        CREATE INDEX records_unprocessed ON records (id) WHERE outcome IS NULL;
        CREATE INDEX records_unacked ON records (source, id) WHERE NOT acked;
        CREATE INDEX records_document ON records (document_id);

        CREATE TABLE cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE documents (
            id BIGSERIAL PRIMARY KEY,
            triple TEXT,
            issuer_code TEXT,
            issuer_key TEXT,
            fallback TEXT,
            state TEXT NOT NULL,
            revision INTEGER NOT NULL,
            data JSONB NOT NULL,
            conflicts JSONB NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX documents_triple ON documents (triple);
        CREATE INDEX documents_fallback ON documents (fallback);

        CREATE TABLE attachment_index (
            sha256 TEXT NOT NULL,
            document_id BIGINT NOT NULL,
            PRIMARY KEY (sha256, document_id)
        );

        CREATE TABLE revisions (
            document_id BIGINT NOT NULL,
            revision INTEGER NOT NULL,
            record_id BIGINT NOT NULL,
            data JSONB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (document_id, revision)
        );

        CREATE TABLE outbox (
            id BIGSERIAL PRIMARY KEY,
            document_id BIGINT NOT NULL,
            unit TEXT NOT NULL,
            sink TEXT NOT NULL,
            op TEXT NOT NULL,
            revision INTEGER NOT NULL,
            key TEXT NOT NULL UNIQUE,
            body JSONB,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
            last_error TEXT,
            remote_id TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT,
            UNIQUE (document_id, unit, sink, op, revision)
        );
        CREATE INDEX outbox_due ON outbox (sink, next_attempt_at) WHERE state = 'pending';
        CREATE INDEX outbox_document ON outbox (document_id, unit, sink);

        CREATE TABLE quarantine (
            id BIGSERIAL PRIMARY KEY,
            record_id BIGINT NOT NULL UNIQUE,
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
            id BIGSERIAL PRIMARY KEY,
            document_id BIGINT,
            sink TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            status TEXT NOT NULL,
            note TEXT,
            updated_at TEXT NOT NULL,
            UNIQUE (sink, remote_id, status)
        );

        CREATE TABLE audit (
            id BIGSERIAL PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail JSONB NOT NULL DEFAULT '{}'
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE status_out (
            id BIGSERIAL PRIMARY KEY,
            record_id BIGINT NOT NULL,
            source TEXT NOT NULL,
            code TEXT NOT NULL,
            description TEXT NOT NULL,
            from_organ TEXT NOT NULL,
            to_organ JSONB NOT NULL,
            ref JSONB NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_id TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (record_id, code)
        );
        CREATE INDEX status_out_due ON status_out (source, next_attempt_at)
            WHERE state = 'pending';

        CREATE TABLE overrides (
            record_key TEXT PRIMARY KEY,
            document_id BIGINT,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        ALTER TABLE records ADD COLUMN released BOOLEAN NOT NULL DEFAULT FALSE;
        CREATE INDEX quarantine_open ON quarantine (id) WHERE released_at IS NULL;
        CREATE INDEX audit_at ON audit (at)
        """,
    ),
    (
        4,
        """
        ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until DOUBLE PRECISION;
        CREATE TABLE IF NOT EXISTS leases (
            resource TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            token BIGINT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )
        """,
    ),
    (
        5,
        """
        ALTER TABLE documents ADD COLUMN IF NOT EXISTS search_key TEXT NOT NULL DEFAULT '';
        CREATE INDEX IF NOT EXISTS quarantine_review ON quarantine (record_id)
            WHERE kind = 'review' AND released_at IS NULL
        """,
    ),
    (
        6,
        """
        CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sink, id) WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS status_out_pending ON status_out (source, id)
            WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS records_waiting ON records (id) WHERE outcome = 'waiting';
        CREATE INDEX IF NOT EXISTS outbox_remote ON outbox (sink, remote_id)
        """,
    ),
    (
        7,
        """
        ALTER TABLE outbox ADD COLUMN IF NOT EXISTS status_final INTEGER NOT NULL DEFAULT 0;
        UPDATE outbox SET status_final = 1 WHERE op = 'create' AND state = 'delivered'
            AND EXISTS (SELECT 1 FROM status_events e WHERE e.sink = outbox.sink
            AND e.remote_id = outbox.remote_id AND e.status IN ('done', 'rejected'));
        CREATE INDEX IF NOT EXISTS outbox_status_open ON outbox (sink, id)
            WHERE op = 'create' AND state = 'delivered' AND status_final = 0
        """,
    ),
    (
        8,
        """
        ALTER TABLE outbox ADD COLUMN IF NOT EXISTS note TEXT
        """,
    ),
    (9, "UPDATE documents SET search_key = ''"),  # keys recomputed (search.REKEY_AT)
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
