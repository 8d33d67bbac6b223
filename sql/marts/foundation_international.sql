-- Foundations' international activity as the China Foundation Center (CFC) counted it:
--  * share of foundations that ran international projects, by type (all, public 公募, non-public
--    非公募): engaged_international under definition cfc_international_projects / registered, for the
--    same year, period, as_of and type, with the percentage the source printed and whether it can
--    follow from the counts (the same arithmetic as marts.participation, which also holds these rows);
--  * the CFC's overseas-project figures as published (foundations with overseas projects, projects,
--    countries). These are a different count from the share's numerator, so no ratio is formed from
--    them against a registered total.
CREATE OR REPLACE VIEW marts.foundation_international AS
WITH figures AS (
    SELECT * FROM marts.figures WHERE org_type = 'foundation' OR org_type LIKE 'foundation\_%' ESCAPE '\'
),
engaged AS (
    SELECT * FROM figures
    WHERE measure = 'engaged_international' AND definition_id = 'cfc_international_projects'
),
shares AS (
    SELECT
        e.year, e.period, e.as_of, e.org_type, e.definition_id,
        r.value AS registered,
        e.value AS engaged_international,
        100 * e.value / r.value AS participation_pct,
        p.value AS published_share_pct,
        marts.disagrees_with_counts(p.value, p.half_unit, e.value, e.half_unit, r.value, r.half_unit)
            AS published_disagrees,
        [e.source_id, r.source_id, p.source_id] AS share_source_ids
    FROM engaged AS e
    LEFT JOIN (SELECT * FROM figures WHERE measure = 'registered') AS r
        USING (year, period, as_of, org_type)
    LEFT JOIN (SELECT * FROM figures WHERE measure = 'published_share_pct') AS p
        USING (year, period, as_of, org_type)
),
overseas AS (
    SELECT
        year, period, as_of, org_type,
        max(value) FILTER (WHERE measure = 'foundations_with_overseas_projects') AS foundations_with_overseas_projects,
        max(value) FILTER (WHERE measure = 'overseas_projects') AS overseas_projects,
        max(value) FILTER (WHERE measure = 'overseas_project_countries') AS overseas_project_countries,
        max(note) FILTER (WHERE measure = 'foundations_with_overseas_projects') AS overseas_note,
        list(source_id) AS overseas_source_ids
    FROM figures
    WHERE measure IN ('foundations_with_overseas_projects', 'overseas_projects', 'overseas_project_countries')
    GROUP BY year, period, as_of, org_type
)
SELECT
    year, period, as_of, org_type,
    s.definition_id,
    s.registered,
    s.engaged_international,
    s.participation_pct,
    s.participation_pct / 100 AS participation_ratio,
    s.published_share_pct,
    s.participation_pct - s.published_share_pct AS difference_pct_points,
    s.published_disagrees,
    o.foundations_with_overseas_projects,
    o.overseas_projects,
    o.overseas_project_countries,
    o.overseas_projects / o.foundations_with_overseas_projects AS overseas_projects_per_foundation,
    o.overseas_note,
    list_sort(list_distinct(list_filter(
        list_concat(coalesce(s.share_source_ids, []), coalesce(o.overseas_source_ids, [])),
        lambda x: x IS NOT NULL))) AS source_ids
FROM shares AS s
FULL OUTER JOIN overseas AS o USING (year, period, as_of, org_type);
COMMENT ON VIEW marts.foundation_international IS 'Foundations'' international activity (China Foundation Center): share that ran international projects by type (percent of registered foundations, with the published percentage), and the overseas-project counts as published (foundations, projects, countries), with the source ids used.';
COMMENT ON COLUMN marts.foundation_international.engaged_international IS 'Foundations that ran international projects (definition cfc_international_projects; foundations).';
COMMENT ON COLUMN marts.foundation_international.registered IS 'Foundations of this type counted at the same date (foundations).';
COMMENT ON COLUMN marts.foundation_international.participation_pct IS '100 * engaged_international / registered (percent).';
COMMENT ON COLUMN marts.foundation_international.published_share_pct IS 'The percentage as published (percent).';
COMMENT ON COLUMN marts.foundation_international.difference_pct_points IS 'participation_pct - published_share_pct (percentage points).';
COMMENT ON COLUMN marts.foundation_international.foundations_with_overseas_projects IS 'Foundations that ran overseas projects in the year, as published (foundations).';
COMMENT ON COLUMN marts.foundation_international.overseas_projects IS 'Overseas projects those foundations ran, as published (projects).';
COMMENT ON COLUMN marts.foundation_international.overseas_project_countries IS 'Countries the overseas projects were in, as published (countries).';
COMMENT ON COLUMN marts.foundation_international.overseas_projects_per_foundation IS 'overseas_projects / foundations_with_overseas_projects (projects per foundation).';
COMMENT ON COLUMN marts.foundation_international.source_ids IS 'Every source the row was computed from, for footnotes.';
