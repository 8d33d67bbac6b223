-- One row: which edition this warehouse file is (see docs/warehouse.md, "Editions"). Written once,
-- on the build copy, just before it is published; a warehouse made before editions has no row.
CREATE TABLE IF NOT EXISTS audit.edition (
    edition_id          TEXT NOT NULL,      -- digest of the snapshots, source documents and code it is made from
    number              INTEGER NOT NULL,   -- 1, 2, 3 ... in the order editions were built here
    built_at            TIMESTAMP NOT NULL,
    flow_run_id         TEXT,               -- the Prefect flow run that built it, when there was one
    snapshots           TEXT NOT NULL,      -- JSON: snapshot_id -> sha256 of the bytes loaded
    code_files          TEXT,               -- JSON: file under sql/, expectations/, templates/ -> sha256
    previous_edition_id TEXT,               -- the edition published when this one was built
    since_previous      TEXT                -- JSON: what changed since that edition (for the brief)
);
COMMENT ON TABLE audit.edition IS 'This file''s edition: its id (a digest of what it is made from), number, build time, Prefect flow run, snapshots and code, and what changed since the previous edition.';
