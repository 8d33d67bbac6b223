-- Source documents as listed in the data manifest (data/sources.toml).
CREATE TABLE IF NOT EXISTS raw.sources (
    source_id   TEXT PRIMARY KEY,
    publisher   TEXT,
    title       TEXT,
    url         TEXT,
    published   TEXT,
    kind        TEXT,
    notes       TEXT
);
COMMENT ON TABLE raw.sources IS 'Source documents from the data manifest: publisher, title, URL, publication date, kind.';
