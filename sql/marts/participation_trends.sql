-- Participation over time, only where a series has two or more observations. A series is one
-- definition_id, org_type and period: figures counted under different definitions, or year-end and
-- quarterly figures, are never joined. Each observation sits next to the previous one in its series:
-- change in the engaged count (organizations, percent, CAGR) and in the participation ratio
-- (percentage points, percent, CAGR); the ratio's changes are NULL where either point lacks a
-- denominator. Gaps between observations are annualized over, never interpolated.
CREATE OR REPLACE VIEW marts.participation_trends AS
WITH points AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY definition_id, org_type, period) AS n_observations
    FROM marts.participation
),
sequenced AS (
    SELECT
        *,
        lag(year) OVER series AS prev_year,
        lag(as_of) OVER series AS prev_as_of,
        lag(engaged_international) OVER series AS prev_engaged_international,
        lag(registered) OVER series AS prev_registered,
        lag(participation_pct) OVER series AS prev_participation_pct,
        lag(engaged_source_id) OVER series AS prev_engaged_source_id,
        lag(registered_source_id) OVER series AS prev_registered_source_id
    FROM points
    WHERE n_observations >= 2
    WINDOW series AS (PARTITION BY definition_id, org_type, period ORDER BY as_of)
),
measured AS (
    SELECT *, marts.elapsed_years(prev_as_of, as_of) AS years_between
    FROM sequenced
)
SELECT
    definition_id, definition_term, org_type, period, year, as_of,
    engaged_international, registered, participation_pct,
    prev_year, prev_as_of, prev_engaged_international, prev_registered, prev_participation_pct,
    years_between,
    engaged_international - prev_engaged_international AS engaged_change_abs,
    100 * (engaged_international - prev_engaged_international) / prev_engaged_international
        AS engaged_change_pct,
    marts.cagr_pct(prev_engaged_international, engaged_international, years_between) AS engaged_cagr_pct,
    participation_pct - prev_participation_pct AS participation_change_pct_points,
    100 * (participation_pct - prev_participation_pct) / prev_participation_pct AS participation_change_pct,
    marts.cagr_pct(prev_participation_pct, participation_pct, years_between) AS participation_cagr_pct,
    n_observations,
    list_sort(list_distinct(list_filter(
        [engaged_source_id, registered_source_id, prev_engaged_source_id, prev_registered_source_id],
        lambda x: x IS NOT NULL))) AS source_ids
FROM measured;
COMMENT ON VIEW marts.participation_trends IS 'Participation series (one definition_id, org_type and period) with two or more observations: change from the previous observation in engaged_international (organizations, percent, CAGR percent per year) and in participation_pct (percentage points, percent, CAGR percent per year), with the source ids of both points'' counts.';
COMMENT ON COLUMN marts.participation_trends.engaged_change_abs IS 'engaged_international - prev_engaged_international (organizations).';
COMMENT ON COLUMN marts.participation_trends.engaged_change_pct IS 'Percent change of engaged_international from the previous observation.';
COMMENT ON COLUMN marts.participation_trends.engaged_cagr_pct IS 'Compound annual growth rate of engaged_international (percent per year).';
COMMENT ON COLUMN marts.participation_trends.participation_change_pct_points IS 'participation_pct - prev_participation_pct (percentage points).';
COMMENT ON COLUMN marts.participation_trends.participation_change_pct IS 'Relative change of the participation ratio (percent).';
COMMENT ON COLUMN marts.participation_trends.participation_cagr_pct IS 'Compound annual rate of change of the participation ratio (percent per year).';
COMMENT ON COLUMN marts.participation_trends.source_ids IS 'Sources of the counts of this observation and the previous one, for footnotes.';
