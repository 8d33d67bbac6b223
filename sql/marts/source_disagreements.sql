-- Every figure printed by more than one source: the figure marts.figures chose (by source priority)
-- beside each other printing of it, and how far apart they are. Two printings agree when the ranges
-- their printed precision allows overlap (49.9万 = 499,000 ± 500 agrees with 499,000): such pairs are
-- listed with agree_within_precision = true and are not a disagreement. Quarterly and year-end
-- figures are different figures (period and as_of are part of the key) and are never compared.
CREATE OR REPLACE VIEW marts.source_disagreements AS
WITH chosen AS (
    SELECT * FROM marts.figures WHERE n_sources > 1
),
observations AS (
    SELECT o.*, s.priority_rank
    FROM staging.observations AS o
    LEFT JOIN staging.sources AS s USING (source_id)
),
pairs AS (
    SELECT
        c.year, c.period, c.as_of, c.measure, c.org_type, c.unit,
        c.source_id       AS chosen_source_id,
        c.value           AS chosen_value,
        c.as_published    AS chosen_as_published,
        c.half_unit       AS chosen_half_unit,
        o.source_id       AS other_source_id,
        o.value           AS other_value,
        o.as_published    AS other_as_published,
        marts.printed_half_unit(o.value, o.half_unit, o.unit) AS other_half_unit,   -- as marts.figures reads it
        o.priority_rank   AS other_priority_rank,
        c.snapshot_id     AS chosen_snapshot_id,
        c.source_row      AS chosen_source_row,
        o.snapshot_id     AS other_snapshot_id,
        o.source_row      AS other_source_row
    FROM chosen AS c
    JOIN observations AS o USING (year, period, as_of, measure, org_type)
    WHERE NOT (o.snapshot_id = c.snapshot_id AND o.source_row = c.source_row
               AND o.source_column = c.source_column)
)
SELECT
    year, period, as_of, measure, org_type, unit,
    chosen_source_id, chosen_value, chosen_as_published, chosen_half_unit,
    other_source_id, other_value, other_as_published, other_half_unit, other_priority_rank,
    other_value - chosen_value AS difference,
    100 * (other_value - chosen_value) / nullif(chosen_value, 0) AS difference_pct,
    chosen_half_unit + other_half_unit AS tolerance,
    -- Rounding maps a true value to one printed figure, so each printing stands for the half-open
    -- range [value - half_unit, value + half_unit): two printings agree when the ranges overlap, that
    -- is when |difference| < tolerance (9319 and 9320 touch at 9319.5 and do not agree). The 1e-9
    -- keeps binary floating point from turning an exact touch (0.11% vs 0.12%) into an overlap.
    abs(other_value - chosen_value)
        < chosen_half_unit + other_half_unit - 1e-9 * greatest(abs(chosen_value), abs(other_value), 1)
        AS agree_within_precision,
    chosen_snapshot_id, chosen_source_row, other_snapshot_id, other_source_row
FROM pairs
ORDER BY year, as_of, period, measure, org_type, other_priority_rank NULLS LAST, other_source_id;
COMMENT ON VIEW marts.source_disagreements IS 'Each figure printed by several sources: the chosen printing (marts.figures) beside every other, their difference, the tolerance their printed precision allows, and agree_within_precision (true = not a disagreement).';
