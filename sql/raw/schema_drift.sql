-- Schema drift: how each loaded snapshot's columns differ from its layout's contract
-- (ngobrief/ingest/layouts/<layout>.toml): a column new to the contract (not read), an optional one
-- missing (its values are NULL), or a missing one that a new header resembles ("renamed?"). Written
-- with the snapshot's rows, in the same transaction; an output of the parse, so a cached parse gives
-- the same report.
CREATE TABLE IF NOT EXISTS raw.schema_drift (
    snapshot_id  TEXT NOT NULL,
    parser       TEXT NOT NULL,
    kind         TEXT NOT NULL,      -- new | missing_optional | renamed?
    column_name  TEXT NOT NULL,      -- the header (new) or the contract's column (missing, renamed?)
    suggestion   TEXT,               -- renamed?: the new header that resembles it
    PRIMARY KEY (snapshot_id, kind, column_name)
);
COMMENT ON TABLE raw.schema_drift IS 'Columns of each loaded snapshot that differ from its layout''s contract: new (not read), missing optional (NULL), renamed? (a similar new header).';
