-- marts.source_freshness: each publisher's newest source document and its age today, for the
-- freshness suite (expectations/marts_source_freshness.json). A bare year counts as its last day, so a
-- document is never called older than it may be. Cadences and expected releases per series are in
-- data/sources.toml ([series.*]) and shown by `ngobrief sources` and `ngobrief status`.
CREATE OR REPLACE VIEW marts.source_freshness AS
WITH dated AS (
    SELECT
        source_id,
        publisher,
        CASE WHEN regexp_full_match(trim(published), '[0-9]{4}') THEN make_date(CAST(trim(published) AS INTEGER), 12, 31)
             ELSE TRY_CAST(left(trim(published), 10) AS DATE) END AS published_on
    FROM staging.sources
    WHERE published IS NOT NULL AND trim(published) <> ''
)
SELECT
    publisher,
    arg_max(source_id, published_on) AS newest_source,
    max(published_on) AS published_on,
    CAST(current_date - max(published_on) AS INTEGER) AS age_days
FROM dated
WHERE published_on IS NOT NULL
GROUP BY publisher;

COMMENT ON VIEW marts.source_freshness IS 'Each publisher''s newest source document (a bare year counts as its last day) and its age in days today; the freshness suite warns past 18 months.';
COMMENT ON COLUMN marts.source_freshness.age_days IS 'Days from the newest document''s publication date to today (the day validation ran).';
