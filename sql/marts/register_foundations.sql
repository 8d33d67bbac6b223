-- The RICF register's foundations, one register snapshot per record year (two pulls of one year's
-- register are never added up): the one whose source ranks first, then the first snapshot id. Every
-- register mart reads this view.
CREATE OR REPLACE VIEW marts.register_foundations AS
SELECT f.*
FROM staging.register_foundations AS f
LEFT JOIN staging.sources AS s USING (source_id)
QUALIFY dense_rank() OVER (PARTITION BY f.record_year
                           ORDER BY s.priority_rank NULLS LAST, f.snapshot_id) = 1;
COMMENT ON VIEW marts.register_foundations IS 'RICF register foundations, one snapshot per record year (the best-ranked source, then the first snapshot id).';
