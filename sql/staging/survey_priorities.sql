CREATE TABLE IF NOT EXISTS staging.survey_priorities (
    rank          INTEGER NOT NULL,
    sector_en     TEXT NOT NULL,
    sector_zh     TEXT NOT NULL,
    support_band  TEXT NOT NULL,      -- above_60pct | below_60pct
    support_pct   DOUBLE,             -- only where the study printed one
    source_id     TEXT NOT NULL,
    note          TEXT,
    snapshot_id   TEXT NOT NULL,
    source_row    BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, source_row)
);
COMMENT ON TABLE staging.survey_priorities IS 'Sector priorities of the CANGO survey, in the order published.';
