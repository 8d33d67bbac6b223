-- The CANGO survey's sector priorities as loaded.
CREATE TABLE IF NOT EXISTS raw.survey_priorities (
    snapshot_id   TEXT NOT NULL,
    source_row    BIGINT NOT NULL,
    rank          TEXT,
    sector_en     TEXT,
    sector_zh     TEXT,
    support_band  TEXT,
    support_pct   TEXT,
    source_id     TEXT,
    note          TEXT,
    PRIMARY KEY (snapshot_id, source_row)
);
COMMENT ON TABLE raw.survey_priorities IS 'Survey sector priorities as loaded: text cells with the snapshot and row they came from.';
