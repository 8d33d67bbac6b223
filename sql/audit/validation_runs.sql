-- One row per suite per validation run: which table it checked, how many rows, their fingerprint,
-- or why it was skipped (its table is not in the warehouse yet), and the HTML report of the run.
CREATE TABLE IF NOT EXISTS audit.validation_runs (
    run_id            TEXT NOT NULL,
    run_at            TIMESTAMP NOT NULL,
    suite             TEXT NOT NULL,
    table_name        TEXT NOT NULL,
    status            TEXT NOT NULL,     -- validated | skipped
    rows_validated    BIGINT,
    data_fingerprint  TEXT,              -- sha256 of the rows validated (NULL when skipped)
    note              TEXT,
    report_path       TEXT,
    PRIMARY KEY (run_id, suite)
);
COMMENT ON TABLE audit.validation_runs IS 'Validation runs per suite: table checked, rows, data fingerprint, validated or skipped (and why), and the path of the HTML report.';
