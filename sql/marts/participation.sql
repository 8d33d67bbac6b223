-- Participation ratio = organizations engaged internationally / organizations registered, for the
-- same year, period, date and org type. A year with a numerator but no denominator stays as a row
-- with a NULL ratio: a gap, never an estimate. Bounds carry each count's printed precision.
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
        e.source_id AS engaged_source_id,
        r.source_id AS registered_source_id,
        p.source_id AS published_source_id
    FROM engaged AS e
    LEFT JOIN registered AS r USING (year, period, as_of, org_type)
    LEFT JOIN published AS p USING (year, period, as_of, org_type)
)
SELECT
    *,
    participation_pct / 100 AS participation_ratio,
    participation_pct - published_share_pct AS difference_pct_points,
    -- the published percentage disagrees when no ratio allowed by the printed counts rounds to it
    CASE WHEN published_share_pct IS NULL OR participation_pct IS NULL THEN NULL
         ELSE published_share_pct + published_half_unit < participation_pct_low
           OR published_share_pct - published_half_unit > participation_pct_high
    END AS published_disagrees,
    list_sort(list_distinct(list_filter(
        [engaged_source_id, registered_source_id, published_source_id], lambda x: x IS NOT NULL)))
        AS source_ids
FROM joined;
COMMENT ON VIEW marts.participation IS 'Participation ratio (engaged_international / registered) per year, period, as_of and org_type, in percent, with printed-precision bounds, the published percentage where one exists, and the source ids used.';
