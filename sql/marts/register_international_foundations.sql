-- The foundations on the RICF register whose focus areas include 国际事务 (international affairs).
CREATE OR REPLACE VIEW marts.register_international_foundations AS
WITH register AS (
    SELECT * FROM marts.register_foundations  -- one register snapshot per record year
),
foundations AS (
    SELECT * FROM register WHERE international_focus
),
sources AS (
    SELECT source_id, concat_ws('. ', publisher, title) AS citation FROM staging.sources
)
SELECT
    f.record_year, f.ricf_oid, f.name_zh, f.name_en, f.org_type, f.scope, f.province, f.city,
    f.founded_on, f.endowment_yuan, f.endowment_as_published, f.focus_areas,
    f.registering_authority, f.source_id, s.citation
FROM foundations AS f
LEFT JOIN sources AS s USING (source_id)
ORDER BY f.record_year, f.ricf_oid;
COMMENT ON VIEW marts.register_international_foundations IS 'RICF register: each foundation whose focus areas include 国际事务, with type, scope, place, founding date and endowment; cite with the citation column.';
