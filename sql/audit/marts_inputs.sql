-- What the marts are computed from, as one key: the sql/ digest their views were created from, every
-- loaded snapshot (id and sha256) and the source documents. marts_cache (the marts as tables, made
-- when an edition is published: ngobrief.warehouse.cache_marts) is read only while its key is this one.
CREATE OR REPLACE VIEW audit.marts_inputs AS
SELECT sha256(concat_ws('|',
    (SELECT max(digest) FROM audit.schema_digest),
    (SELECT string_agg(snapshot_id || ':' || sha256, ',' ORDER BY snapshot_id) FROM raw.snapshots),
    (SELECT string_agg(md5(s::VARCHAR), ',' ORDER BY s.source_id) FROM raw.sources AS s)
)) AS inputs_key;
COMMENT ON VIEW audit.marts_inputs IS 'One key for what the marts are computed from (the sql/ digest, the loaded snapshots, the source documents): marts_cache is read only while it was made from the same key.';
COMMENT ON COLUMN audit.marts_inputs.inputs_key IS 'sha256 of the sql/ digest, every snapshot id and sha256, and every source document row.';
