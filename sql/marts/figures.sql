-- One figure per (year, period, as_of, measure, org_type): the observation from the source with the
-- best priority_rank (see staging.sources), with how many sources printed that figure.
CREATE OR REPLACE VIEW marts.figures AS
WITH observations AS (
    SELECT o.*, s.priority_rank
    FROM staging.observations AS o
    LEFT JOIN staging.sources AS s USING (source_id)
),
alternatives AS (
    SELECT
        year, period, as_of, measure, org_type,
        count(*) AS n_sources,
        list(source_id ORDER BY priority_rank NULLS LAST, source_id) AS all_source_ids
    FROM observations
    GROUP BY ALL
),
chosen AS (
    SELECT *
    FROM observations
    QUALIFY row_number() OVER (
        PARTITION BY year, period, as_of, measure, org_type
        ORDER BY priority_rank NULLS LAST, source_id, snapshot_id, source_row
    ) = 1
)
SELECT
    c.year, c.period, c.as_of, c.measure, c.org_type,
    c.value, c.as_published, c.half_unit, c.unit, c.source_id, c.note,
    a.n_sources, a.all_source_ids,
    c.snapshot_id, c.source_row, c.source_column
FROM chosen AS c
JOIN alternatives AS a USING (year, period, as_of, measure, org_type);
COMMENT ON VIEW marts.figures IS 'One published figure per year, period, as_of, measure and org_type, chosen by source priority; n_sources and all_source_ids list every source that printed it.';
