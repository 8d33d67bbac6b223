-- One row per snapshot file loaded: where it came from and exactly which bytes.
CREATE TABLE IF NOT EXISTS raw.snapshots (
    snapshot_id   TEXT PRIMARY KEY,   -- the manifest's name for the file
    file          TEXT NOT NULL,      -- path under data/
    sha256        TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    parser        TEXT NOT NULL,
    origin        TEXT,               -- where the bytes were fetched from
    fetched_at    TIMESTAMP,          -- when those bytes were first loaded
    rows_loaded   BIGINT NOT NULL
);
COMMENT ON TABLE raw.snapshots IS 'Provenance of every loaded snapshot file: manifest id, path, sha256, size, parser, origin, first load time, rows.';
