-- One row per brief written.
CREATE TABLE IF NOT EXISTS audit.briefs (
    written_at    TIMESTAMP NOT NULL,
    year          INTEGER NOT NULL,
    lang          TEXT NOT NULL,
    path          TEXT NOT NULL,
    inputs_sha256 TEXT NOT NULL,        -- hash of the figures and templates rendered
    pdf_sha256    TEXT NOT NULL
);
COMMENT ON TABLE audit.briefs IS 'Every brief written: edition, language, file, and hashes of its inputs and of the PDF.';
