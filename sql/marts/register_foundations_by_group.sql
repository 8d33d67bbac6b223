-- Foundations on the RICF register by type (公募/非公募), scope (全国/地方) and province, with how many
-- list 国际事务 (international affairs) among their focus areas. One row per group; `grouped_by`
-- names the dimensions of the row, and a dimension not grouped on reads 'foundation' (org_type) or
-- 'all' (scope, province). The share's denominator is every foundation in the group, including those
-- that state no focus area. Unknown is never zero: where no foundation of a group states its focus
-- areas (a register without the column, or with it empty), international_focus and its share are
-- NULL, and focus_recorded says for how many of the group's foundations it is recorded. Register
-- figures must be shown with `citation`.
CREATE OR REPLACE VIEW marts.register_foundations_by_group AS
WITH foundations AS (
    SELECT * FROM marts.register_foundations  -- one register snapshot per record year
),
grouped AS (
    SELECT
        record_year,
        CASE WHEN grouping(org_type) = 1 THEN 'foundation' ELSE org_type END AS org_type,
        CASE WHEN grouping(scope) = 1 THEN 'all' ELSE scope END AS scope,
        CASE WHEN grouping(province) = 1 THEN 'all' ELSE province END AS province,
        concat_ws(', ',
            CASE WHEN grouping(org_type) = 0 THEN 'org_type' END,
            CASE WHEN grouping(scope) = 0 THEN 'scope' END,
            CASE WHEN grouping(province) = 0 THEN 'province' END) AS grouped_by,
        count(*) AS foundations,
        CASE WHEN count(focus_areas) > 0 THEN count(*) FILTER (WHERE international_focus) END
            AS international_focus,
        count(focus_areas) AS focus_recorded,
        count(*) FILTER (WHERE focus_areas IS NULL) AS focus_not_stated,
        min(source_id) AS source_id
    FROM foundations
    GROUP BY GROUPING SETS (
        (record_year),
        (record_year, org_type),
        (record_year, scope),
        (record_year, province),
        (record_year, org_type, scope),
        (record_year, org_type, scope, province)
    )
),
sources AS (
    SELECT source_id, concat_ws('. ', publisher, title) AS citation FROM staging.sources
)
SELECT
    g.record_year,
    CASE WHEN g.grouped_by = '' THEN 'all' ELSE g.grouped_by END AS grouped_by,
    g.org_type, g.scope, g.province,
    g.foundations, g.international_focus,
    100.0 * g.international_focus / g.foundations AS international_focus_pct,
    g.focus_recorded, g.focus_not_stated,
    g.source_id, s.citation
FROM grouped AS g
LEFT JOIN sources AS s USING (source_id)
ORDER BY g.record_year, length(g.grouped_by), g.grouped_by, g.org_type, g.scope, g.province;
COMMENT ON VIEW marts.register_foundations_by_group IS 'RICF register: foundations by type, scope and province (and totals), how many list 国际事务 among their focus areas, and the share in percent; cite with the citation column.';
