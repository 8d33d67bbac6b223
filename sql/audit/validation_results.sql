-- One row per expectation per validation run.
CREATE TABLE IF NOT EXISTS audit.validation_results (
    run_id            TEXT NOT NULL,
    run_at            TIMESTAMP NOT NULL,
    suite             TEXT NOT NULL,
    expectation       TEXT NOT NULL,
    severity          TEXT NOT NULL,     -- error | warning
    success           BOOLEAN NOT NULL,
    description       TEXT,
    observed_value    TEXT,
    unexpected_rows   TEXT,              -- JSON list of the failing rows' keys
    data_fingerprint  TEXT NOT NULL      -- sha256 of the rows validated
);
COMMENT ON TABLE audit.validation_results IS 'Great Expectations results: one row per expectation per run, with severity and the rows that failed.';
