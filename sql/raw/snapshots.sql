-- One row per snapshot file loaded: where it came from and exactly which bytes.
CREATE TABLE IF NOT EXISTS raw.snapshots (
    snapshot_id   TEXT PRIMARY KEY,   -- the manifest's name for the file
    file          TEXT NOT NULL,      -- path under data/
    sha256        TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    parser        TEXT NOT NULL,      -- long_csv | wide_table | survey_csv | ricf_tsv
    origin        TEXT,               -- where the bytes were fetched from (URL, file name, or bundled:)
    fetched_at    TIMESTAMP,          -- when the bytes were fetched, as the manifest records it
    rows_loaded   BIGINT NOT NULL,    -- typed rows this snapshot put into staging
    source_id     TEXT,               -- the source document, when the file does not name one per row
    loaded_at     TIMESTAMP,          -- when these bytes were loaded into this warehouse
    encoding      TEXT,               -- how the text was decoded (NULL for XLSX)
    sheet         TEXT                -- the XLSX sheet read
);
COMMENT ON TABLE raw.snapshots IS 'Provenance of every loaded snapshot file: manifest id, source id, origin, fetch time, path, sha256, size, parser, encoding or sheet, rows loaded and load time.';
-- a warehouse made before these columns existed gains them empty
ALTER TABLE raw.snapshots ADD COLUMN IF NOT EXISTS source_id TEXT;
ALTER TABLE raw.snapshots ADD COLUMN IF NOT EXISTS loaded_at TIMESTAMP;
ALTER TABLE raw.snapshots ADD COLUMN IF NOT EXISTS encoding TEXT;
ALTER TABLE raw.snapshots ADD COLUMN IF NOT EXISTS sheet TEXT;
