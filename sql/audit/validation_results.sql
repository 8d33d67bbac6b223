-- One row per expectation per validation run: what was checked, how it came out, and the rows at fault.
CREATE TABLE IF NOT EXISTS audit.validation_results (
    run_id            TEXT NOT NULL,
    run_at            TIMESTAMP NOT NULL,
    suite             TEXT NOT NULL,     -- the suite file's name (expectations/<suite>.json)
    expectation       TEXT NOT NULL,     -- GX expectation type
    severity          TEXT NOT NULL,     -- error (blocks publishing) | warning
    success           BOOLEAN NOT NULL,
    description       TEXT,
    observed_value    TEXT,              -- JSON: what GX observed (or the exception it met)
    unexpected_rows   TEXT,              -- JSON list of the failing rows: key columns and an explanation
    data_fingerprint  TEXT NOT NULL      -- sha256 of the rows validated
);
-- Added after the first release: warehouses made before keep working (new columns are NULL there).
ALTER TABLE audit.validation_results ADD COLUMN IF NOT EXISTS kwargs TEXT;              -- JSON: the expectation's arguments (column, bounds, ...)
ALTER TABLE audit.validation_results ADD COLUMN IF NOT EXISTS unexpected_count BIGINT;  -- how many rows failed
COMMENT ON TABLE audit.validation_results IS 'Great Expectations results: one row per expectation per run, with severity, observed value, the rows that failed and a fingerprint of the data validated.';
