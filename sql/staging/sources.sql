-- Source documents with their rank in the source priority used when several give one figure.
-- Priority (lower wins): 1 primary publication, 2 primary reprint or mirror, 3 primary quoted or
-- register, 4 secondary report; ties go to the later publication (a revision), then source_id.
CREATE OR REPLACE VIEW staging.sources AS
WITH source AS (
    SELECT * FROM raw.sources
),
ranked AS (
    SELECT
        source_id, publisher, title, url, published, kind, notes,
        CASE
            WHEN kind = 'primary' THEN 1
            WHEN kind IN ('primary (reprint)', 'primary (mirror)') THEN 2
            WHEN kind LIKE 'primary%' THEN 3
            ELSE 4
        END AS priority_class
    FROM source
)
SELECT
    *,
    row_number() OVER (ORDER BY priority_class, published DESC, source_id) AS priority_rank
FROM ranked;
COMMENT ON VIEW staging.sources IS 'Source documents with priority_rank (1 = preferred) used to choose among sources that give the same figure.';
