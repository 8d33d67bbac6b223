-- Participation ratio = organizations engaged internationally / organizations registered, for the
-- same year, period, date and org type. A year with a numerator but no denominator stays as a row
-- with a NULL ratio: a gap, never an estimate. Bounds carry each count's printed precision.
-- Each row keeps the definition its numerator was counted under (definition_id): the 2012 bulletin's
-- field class, the 2021 blue book's field and the China Foundation Center's project count differ, so
-- rows with different definition_id are not one series (marts.participation_trends keeps them apart).
CREATE OR REPLACE VIEW marts.participation AS
WITH figures AS (
    SELECT * FROM marts.figures
),
engaged AS (
    SELECT * FROM figures WHERE measure = 'engaged_international'
),
registered AS (
    SELECT * FROM figures WHERE measure = 'registered'
),
published AS (
    SELECT * FROM figures WHERE measure = 'published_share_pct'
),
joined AS (
    SELECT
        e.year, e.period, e.as_of, e.org_type,
        e.value AS engaged_international,
        r.value AS registered,
        100 * e.value / r.value AS participation_pct,
        100 * (e.value - e.half_unit) / (r.value + r.half_unit) AS participation_pct_low,
        100 * (e.value + e.half_unit) / (r.value - r.half_unit) AS participation_pct_high,
        p.value AS published_share_pct,
        p.half_unit AS published_half_unit,
        e.note AS definition,
        e.definition_id,
        d.term AS definition_term,
        e.source_id AS engaged_source_id,
        r.source_id AS registered_source_id,
        p.source_id AS published_source_id,
        marts.disagrees_with_counts(p.value, p.half_unit, e.value, e.half_unit, r.value, r.half_unit)
            AS published_disagrees
    FROM engaged AS e
    LEFT JOIN registered AS r USING (year, period, as_of, org_type)
    LEFT JOIN published AS p USING (year, period, as_of, org_type)
    LEFT JOIN marts.engagement_definitions AS d ON d.definition_id = e.definition_id
)
SELECT
    * EXCLUDE (published_disagrees),
    participation_pct / 100 AS participation_ratio,
    participation_pct - published_share_pct AS difference_pct_points,
    published_disagrees,
    list_sort(list_distinct(list_filter(
        [engaged_source_id, registered_source_id, published_source_id], lambda x: x IS NOT NULL)))
        AS source_ids
FROM joined;
COMMENT ON VIEW marts.participation IS 'Participation ratio (engaged_international / registered) per year, period, as_of, org_type and definition_id, in percent, with printed-precision bounds, the published percentage where one exists, the difference, and the source ids used.';
COMMENT ON COLUMN marts.participation.engaged_international IS 'Numerator: organizations counted as engaged internationally under definition_id (organizations).';
COMMENT ON COLUMN marts.participation.registered IS 'Denominator: organizations registered at the same year, period, as_of and org_type (organizations); NULL when no source printed it.';
COMMENT ON COLUMN marts.participation.participation_pct IS '100 * engaged_international / registered (percent).';
COMMENT ON COLUMN marts.participation.participation_ratio IS 'engaged_international / registered (a fraction between 0 and 1).';
COMMENT ON COLUMN marts.participation.published_share_pct IS 'The percentage a source printed for this ratio, where one did (percent).';
COMMENT ON COLUMN marts.participation.difference_pct_points IS 'participation_pct - published_share_pct (percentage points).';
COMMENT ON COLUMN marts.participation.published_disagrees IS 'TRUE when no ratio allowed by the printed counts rounds to the published percentage.';
COMMENT ON COLUMN marts.participation.definition IS 'The definition as the source noted it.';
COMMENT ON COLUMN marts.participation.definition_id IS 'Which definition of engaged_international the numerator follows (marts.engagement_definitions).';
COMMENT ON COLUMN marts.participation.source_ids IS 'Every source the row was computed from, for footnotes.';
