-- Registered organizations by type over the observed years: each observation next to the previous
-- one in its series, with the absolute and percent change and the compound annual growth rate over
-- the real gap between them (years without a figure are annualized over, never interpolated).
-- A series is one org_type in one period: year-end, quarterly (Q3, Q4) and as_of figures never meet.
-- share_of_total_pct compares a type with its whole (all social organizations; all foundations for a
-- foundation sub-type) only when both were printed for the same year, period and as_of.
CREATE OR REPLACE VIEW marts.registered_trends AS
WITH registered AS (
    SELECT year, period, as_of, org_type, value AS registered, as_published, half_unit, source_id
    FROM marts.figures
    WHERE measure = 'registered'
),
with_whole AS (
    SELECT
        *,
        CASE WHEN org_type IN ('social_association', 'private_non_enterprise', 'foundation') THEN 'all'
             WHEN org_type LIKE 'foundation\_%' ESCAPE '\' THEN 'foundation'
        END AS total_org_type
    FROM registered
),
sequenced AS (
    SELECT
        *,
        lag(year) OVER series AS prev_year,
        lag(as_of) OVER series AS prev_as_of,
        lag(registered) OVER series AS prev_registered,
        lag(half_unit) OVER series AS prev_half_unit,
        lag(source_id) OVER series AS prev_source_id,
        count(*) OVER (PARTITION BY period, org_type) AS n_observations
    FROM with_whole
    WINDOW series AS (PARTITION BY period, org_type ORDER BY as_of)
),
measured AS (
    SELECT
        s.*,
        marts.elapsed_years(s.prev_as_of, s.as_of) AS years_between,
        t.registered AS total_registered,
        t.source_id AS total_source_id
    FROM sequenced AS s
    LEFT JOIN registered AS t
        ON t.org_type = s.total_org_type AND t.year = s.year AND t.period = s.period AND t.as_of = s.as_of
)
SELECT
    year, period, as_of, org_type,
    registered, as_published, source_id,
    prev_year, prev_as_of, prev_registered, prev_source_id,
    years_between,
    registered - prev_registered AS change_abs,
    half_unit + prev_half_unit AS change_abs_margin,
    100 * (registered - prev_registered) / prev_registered AS change_pct,
    marts.cagr_pct(prev_registered, registered, years_between) AS cagr_pct,
    source_id <> prev_source_id AS sources_differ,
    total_org_type, total_registered, total_source_id,
    100 * registered / total_registered AS share_of_total_pct,
    n_observations,
    list_sort(list_distinct(list_filter(
        [source_id, prev_source_id, total_source_id], lambda x: x IS NOT NULL))) AS source_ids
FROM measured;
COMMENT ON VIEW marts.registered_trends IS 'Registered organizations per org_type and period over the observed dates: change from the previous observation (organizations and percent), CAGR over the real gap (percent per year), and share of the whole printed for the same date (percent), with the source ids used.';
COMMENT ON COLUMN marts.registered_trends.registered IS 'Organizations registered at as_of (chosen figure, marts.figures).';
COMMENT ON COLUMN marts.registered_trends.prev_year IS 'Year of the previous observation in the same org_type and period; NULL for a series'' first.';
COMMENT ON COLUMN marts.registered_trends.years_between IS 'Years from the previous observation (marts.elapsed_years): 1 per year between year-end figures.';
COMMENT ON COLUMN marts.registered_trends.change_abs IS 'registered - prev_registered (organizations).';
COMMENT ON COLUMN marts.registered_trends.change_abs_margin IS 'Half units of both printed figures added: change_abs is known to within ± this (organizations).';
COMMENT ON COLUMN marts.registered_trends.change_pct IS '100 * (registered - prev_registered) / prev_registered (percent, over the whole gap).';
COMMENT ON COLUMN marts.registered_trends.cagr_pct IS 'Compound annual growth rate from the previous observation, marts.cagr_pct (percent per year).';
COMMENT ON COLUMN marts.registered_trends.sources_differ IS 'TRUE when this and the previous figure come from different sources: part of the change may be a difference in counting.';
COMMENT ON COLUMN marts.registered_trends.total_org_type IS 'The whole this type is part of: all (social_association, private_non_enterprise, foundation) or foundation (foundation sub-types).';
COMMENT ON COLUMN marts.registered_trends.share_of_total_pct IS '100 * registered / total_registered, only when the whole was printed for the same year, period and as_of (percent).';
COMMENT ON COLUMN marts.registered_trends.source_ids IS 'Sources of this figure, the previous one and the whole, for footnotes.';
