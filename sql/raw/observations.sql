-- Published figures exactly as they stand in their snapshot file, every cell as text.
CREATE TABLE IF NOT EXISTS raw.observations (
    snapshot_id   TEXT NOT NULL,
    source_row    BIGINT NOT NULL,    -- row number in the file (header = 1)
    year          TEXT,
    period        TEXT,
    as_of         TEXT,
    measure       TEXT,
    org_type      TEXT,
    value         TEXT,
    as_published  TEXT,
    unit          TEXT,
    source_id     TEXT,
    note          TEXT,
    PRIMARY KEY (snapshot_id, source_row)
);
COMMENT ON TABLE raw.observations IS 'Published figures as loaded: text cells with the snapshot and row they came from.';
