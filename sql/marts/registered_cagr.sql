-- Growth of registered organizations between ANY two observations of one series (org_type and
-- period), not only consecutive ones: filter on start_year and end_year to get the CAGR between two
-- observed years. Years in between without a figure are annualized over, never interpolated.
CREATE OR REPLACE VIEW marts.registered_cagr AS
WITH registered AS (
    SELECT
        year, period, as_of, org_type, value AS registered, source_id,
        row_number() OVER (PARTITION BY period, org_type ORDER BY as_of) AS position
    FROM marts.figures
    WHERE measure = 'registered'
),
pairs AS (
    SELECT
        a.org_type, a.period,
        a.year AS start_year, a.as_of AS start_as_of, a.registered AS start_registered,
        a.source_id AS start_source_id,
        b.year AS end_year, b.as_of AS end_as_of, b.registered AS end_registered,
        b.source_id AS end_source_id,
        b.position - a.position - 1 AS observations_between,
        marts.elapsed_years(a.as_of, b.as_of) AS years_between
    FROM registered AS a
    JOIN registered AS b
        ON b.org_type = a.org_type AND b.period = a.period AND b.as_of > a.as_of
)
SELECT
    *,
    end_registered - start_registered AS change_abs,
    100 * (end_registered - start_registered) / start_registered AS change_pct,
    marts.cagr_pct(start_registered, end_registered, years_between) AS cagr_pct,
    start_source_id <> end_source_id AS sources_differ,
    list_sort(list_distinct([start_source_id, end_source_id])) AS source_ids
FROM pairs;
COMMENT ON VIEW marts.registered_cagr IS 'Registered organizations: change (organizations, percent) and CAGR (percent per year) between every pair of observations in one org_type and period series, with the source ids used.';
COMMENT ON COLUMN marts.registered_cagr.observations_between IS 'Observed dates of the series strictly between start and end (none when they are consecutive).';
COMMENT ON COLUMN marts.registered_cagr.years_between IS 'Years from start_as_of to end_as_of (marts.elapsed_years).';
COMMENT ON COLUMN marts.registered_cagr.cagr_pct IS 'Compound annual growth rate from start to end, marts.cagr_pct (percent per year).';
