-- One figure per (year, period, as_of, measure, org_type, definition_id): the observation from the
-- source with the best priority_rank (see staging.sources), with how many sources printed that figure.
-- definition_id (engaged_international only) is part of the key: figures counted under different
-- definitions are different figures, never alternatives for one another.
CREATE OR REPLACE VIEW marts.figures AS
WITH observations AS (
    SELECT
        o.*,
        s.priority_rank,
        CASE WHEN o.measure = 'engaged_international' THEN coalesce(
            (SELECT d.definition_id FROM marts.engagement_definitions AS d
             WHERE o.note LIKE d.note_pattern ORDER BY d.match_order LIMIT 1),
            CASE WHEN nullif(trim(o.note), '') IS NULL THEN 'unstated:' || o.source_id
                 ELSE 'unmatched:' || o.source_id || ':' || trim(o.note) END)
        END AS definition_id
    FROM staging.observations AS o
    LEFT JOIN staging.sources AS s USING (source_id)
),
alternatives AS (
    SELECT
        year, period, as_of, measure, org_type, definition_id,
        count(*) AS n_sources,
        list(source_id ORDER BY priority_rank NULLS LAST, source_id) AS all_source_ids
    FROM observations
    GROUP BY ALL
),
chosen AS (
    SELECT *
    FROM observations
    QUALIFY row_number() OVER (
        PARTITION BY year, period, as_of, measure, org_type, definition_id
        ORDER BY priority_rank NULLS LAST, source_id, snapshot_id, source_row
    ) = 1
)
SELECT
    c.year, c.period, c.as_of, c.measure, c.org_type,
    c.value, c.as_published, marts.printed_half_unit(c.value, c.half_unit, c.unit) AS half_unit, c.unit,
    c.source_id, c.note,
    a.n_sources, a.all_source_ids,
    c.snapshot_id, c.source_row,
    c.definition_id, c.source_column
FROM chosen AS c
JOIN alternatives AS a
    ON  a.year = c.year AND a.period = c.period AND a.as_of = c.as_of AND a.measure = c.measure
    AND a.org_type = c.org_type AND a.definition_id IS NOT DISTINCT FROM c.definition_id;
COMMENT ON VIEW marts.figures IS 'One published figure per year, period, as_of, measure, org_type and (for engaged_international) definition_id, chosen by source priority; n_sources and all_source_ids list every source that printed it.';
COMMENT ON COLUMN marts.figures.definition_id IS 'For engaged_international: which definition the figure counts under (see marts.engagement_definitions); NULL for other measures.';
