-- The register's totals checked per record year: public + non-public = foundations (a foundation whose
-- type is not recorded leaves a difference), and the register's count against a total the China
-- Foundation Center or the Ministry of Civil Affairs published for foundations in the same year
-- (marts.figures, year end preferred), with the difference. `year` is the record year.
CREATE OR REPLACE VIEW marts.check_register AS
WITH types AS (
    SELECT record_year,
           max(value) FILTER (WHERE measure = 'foundations') AS foundations,
           max(value) FILTER (WHERE measure = 'foundation_public') AS foundation_public,
           max(value) FILTER (WHERE measure = 'foundation_nonpublic') AS foundation_nonpublic,
           max(recorded) FILTER (WHERE measure = 'foundation_public') AS type_recorded,
           max(source_id) AS register_source_id
    FROM marts.register_measures
    GROUP BY record_year
),
published AS (
    SELECT year, value AS published_registered, as_published, source_id AS published_source_id
    FROM marts.figures
    WHERE measure = 'registered' AND org_type = 'foundation'
    QUALIFY row_number() OVER (PARTITION BY year ORDER BY period = 'year_end' DESC, as_of DESC) = 1
)
SELECT
    t.record_year AS year,
    t.foundations AS register_foundations, t.foundation_public, t.foundation_nonpublic, t.type_recorded,
    t.foundations - coalesce(t.foundation_public, 0) - coalesce(t.foundation_nonpublic, 0) AS type_unaccounted,
    p.published_registered, p.as_published AS published_as_published,
    t.foundations - p.published_registered AS difference,
    t.register_source_id AS source_id, p.published_source_id,
    CASE WHEN p.published_registered IS NOT NULL AND t.foundations <> p.published_registered THEN
        format('{} register ({}): it lists {} foundations; the published total is {} (a difference of {})',
               t.record_year, t.register_source_id, t.foundations, p.as_published,
               (t.foundations - p.published_registered)::BIGINT)
    END AS finding
FROM types AS t
LEFT JOIN published AS p ON p.year = t.record_year;
COMMENT ON VIEW marts.check_register IS 'RICF register per record year: public + non-public against all foundations, and the register count against a published foundation total for the same year (CFC or MCA), with the difference.';
