-- The RICF register as a metric (`ngobrief metrics --metric register`): per record year, foundations,
-- public and non-public, national and local, by province, and international focus, each with its
-- coverage: `recorded` foundations of `foundations` state the field. Unknown is never zero: a measure
-- whose column is missing from that year's register, or empty, has value NULL and recorded 0.
CREATE OR REPLACE VIEW marts.register_measures AS
WITH years AS (
    SELECT
        record_year,
        count(*) AS foundations,
        count(org_type) AS type_recorded,
        count(*) FILTER (WHERE org_type = 'foundation_public') AS foundation_public,
        count(*) FILTER (WHERE org_type = 'foundation_nonpublic') AS foundation_nonpublic,
        count(scope) AS scope_recorded,
        count(*) FILTER (WHERE scope = 'national') AS national,
        count(*) FILTER (WHERE scope = 'local') AS local,
        count(focus_areas) AS focus_recorded,
        count(*) FILTER (WHERE international_focus) AS international_focus,
        count(province) AS province_recorded,
        min(source_id) AS source_id
    FROM marts.register_foundations
    GROUP BY record_year
),
measures AS (
    SELECT y.record_year, m.measure, NULL::TEXT AS province, m.value, m.recorded, y.foundations, y.source_id
    FROM years AS y,
    LATERAL (VALUES
        ('foundations', y.foundations, y.foundations),
        ('foundation_public', y.foundation_public, y.type_recorded),
        ('foundation_nonpublic', y.foundation_nonpublic, y.type_recorded),
        ('national', y.national, y.scope_recorded),
        ('local', y.local, y.scope_recorded),
        ('international_focus', y.international_focus, y.focus_recorded)
    ) AS m(measure, value, recorded)
    UNION ALL
    -- by province; a register without provinces has one row saying so (value NULL, recorded 0)
    SELECT y.record_year, 'province', f.province, count(f.province), y.province_recorded, y.foundations, y.source_id
    FROM years AS y
    LEFT JOIN marts.register_foundations AS f ON f.record_year = y.record_year AND f.province IS NOT NULL
    GROUP BY y.record_year, f.province, y.province_recorded, y.foundations, y.source_id
)
SELECT
    m.record_year, m.measure, m.province,
    CASE WHEN m.recorded > 0 THEN m.value END AS value,
    m.recorded, m.foundations,
    100.0 * m.recorded / m.foundations AS coverage_pct,
    CASE WHEN m.recorded > 0 THEN 100.0 * m.value / m.foundations END AS pct_of_foundations,
    m.source_id, nullif(concat_ws('. ', nullif(s.publisher, ''), nullif(s.title, '')), '') AS citation
FROM measures AS m
LEFT JOIN staging.sources AS s USING (source_id)
ORDER BY m.record_year, m.measure = 'province', m.measure, m.value DESC NULLS LAST, m.province;
COMMENT ON VIEW marts.register_measures IS 'RICF register per record year: foundations, public/non-public, national/local, by province and international focus, each with its coverage (recorded of foundations); NULL, never 0, where the register does not record it.';
