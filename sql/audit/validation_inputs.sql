-- One row per validation run: the fingerprint of everything its results depend on (the rows of the
-- tables its suites check, the suite files, the check SQL, the validation code and, for suites that
-- use the date, the date), and each part's own hash. A later run with the same fingerprint reuses it.
CREATE TABLE IF NOT EXISTS audit.validation_inputs (
    run_id              TEXT PRIMARY KEY,
    run_at              TIMESTAMP NOT NULL,
    inputs_fingerprint  TEXT NOT NULL,   -- sha256 over the parts below
    parts               TEXT NOT NULL    -- JSON: part name (suite:…, table:…, check_sql:…, code, date) → sha256
);
COMMENT ON TABLE audit.validation_inputs IS 'What each validation run depended on: a fingerprint of the checked rows, suite files, check SQL, validation code and date; a run with the same fingerprint is reused instead of run again.';
