-- Published figures, typed. `value` is the figure in plain units; `half_unit` is half a unit of
-- the last digit printed (49.9万 -> 500), so a figure is known to lie within value ± half_unit.
-- snapshot_id, source_row and source_column point at the cell the figure was read from.
CREATE TABLE IF NOT EXISTS staging.observations (
    year          INTEGER NOT NULL,
    period        TEXT NOT NULL,      -- year_end | Q1..Q4 | as_of
    as_of         DATE NOT NULL,
    measure       TEXT NOT NULL,      -- registered | engaged_international | published_share_pct | ...
    org_type      TEXT NOT NULL,      -- all | social_association | private_non_enterprise | foundation | foundation_*
    value         DOUBLE NOT NULL,
    as_published  TEXT,
    half_unit     DOUBLE NOT NULL,
    unit          TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    note          TEXT,
    snapshot_id   TEXT NOT NULL,
    source_row    BIGINT NOT NULL,
    source_column TEXT NOT NULL,      -- as_published in the long layout; the column header in a wide table
    PRIMARY KEY (snapshot_id, source_row, source_column)
);
COMMENT ON TABLE staging.observations IS 'Published figures, typed: one row per figure per source, value ± half_unit as printed, with the snapshot cell it came from.';
-- a warehouse made before source_column existed holds only long-layout rows, whose figure column is as_published
ALTER TABLE staging.observations ADD COLUMN IF NOT EXISTS source_column TEXT DEFAULT 'as_published';
