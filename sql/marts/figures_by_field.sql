-- Social organizations by field of activity (领域), as the CASS blue book counts them: one row per field
-- and date, from the chosen figures of the measures registered_field_<field>. A field count is a
-- classification of all social organizations by what they work on; it is neither a registration type
-- nor a foundation's declared focus, and it is never joined to the registered totals here (the fields
-- the blue book printed need not add up to the total). field_rank 1 is the largest field that date.
CREATE OR REPLACE VIEW marts.figures_by_field AS
WITH fields AS (
    SELECT
        year, period, as_of,
        regexp_extract(measure, '^registered_field_(.+)$', 1) AS field,
        regexp_extract(coalesce(note, ''), '^(\S+?)领域', 1) AS field_as_published,
        value AS organizations, as_published, half_unit, source_id, snapshot_id, source_row
    FROM marts.figures
    WHERE measure LIKE 'registered\_field\_%' ESCAPE '\'
)
SELECT
    *,
    field = 'international' AS is_international,
    rank() OVER (PARTITION BY year, period, as_of ORDER BY organizations DESC) AS field_rank,
    count(*) OVER (PARTITION BY year, period, as_of) AS fields_printed
FROM fields;
COMMENT ON VIEW marts.figures_by_field IS 'Social organizations by field of activity (blue book 领域 counts), one row per field and date, ranked by size (1 = largest); never joined to the registered totals.';
