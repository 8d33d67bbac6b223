-- The register counted by snapshot, province, org_type and founding year, with the rows whose credit
-- code is missing, malformed (staging.credit_code_malformed) or repeated within the snapshot.
-- Computed once per snapshot when it is loaded (the load's transaction runs this file:
-- ngobrief.ingest.layouts.org_register.DERIVED), so that validation, marts.org_register_by_group and
-- their fingerprints read a few thousand groups, not every row of a ten-year panel.
--
-- Each group carries the sha256 of the bytes it was counted from and the md5 of the code rule's
-- definition (`rules`). Every time this file runs (a load; creating the tables after sql/ changed)
-- it drops groups whose snapshot is gone, was loaded again from other bytes, or was counted under
-- another definition of the rule, and counts every register snapshot that has no groups: a warehouse
-- loaded before this table existed, or before the rule changed, is counted again. The view shows
-- only groups of the bytes raw.snapshots holds now.
CREATE OR REPLACE MACRO staging.credit_code_malformed(code, org_type) AS
    code IS NOT NULL AND NOT (
        regexp_full_match(code, '5[1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}')
        AND substr(code, 2, 1) = CASE org_type WHEN 'social_association' THEN '1'
                                               WHEN 'private_non_enterprise' THEN '2'
                                               WHEN 'foundation' THEN '3' END
    );

CREATE TABLE IF NOT EXISTS staging.org_register_groups (
    snapshot_id            TEXT NOT NULL,
    sha256                 TEXT NOT NULL,     -- the snapshot's bytes the groups were counted from
    rules                  TEXT NOT NULL,     -- md5 of staging.credit_code_malformed's definition
    province               TEXT NOT NULL,
    org_type               TEXT NOT NULL,
    founding_year          BIGINT NOT NULL,
    registered             BIGINT NOT NULL,
    engaged_international  BIGINT NOT NULL,
    credit_code_missing    BIGINT NOT NULL,
    credit_code_malformed  BIGINT NOT NULL,
    credit_code_repeated   BIGINT NOT NULL
);
COMMENT ON TABLE staging.org_register_groups IS 'Register of social organizations counted per snapshot by province, org_type and founding_year, with missing, malformed and repeated credit codes; written when a snapshot is loaded.';

DELETE FROM staging.org_register_groups AS g
WHERE NOT EXISTS (SELECT 1 FROM raw.snapshots AS s
                  WHERE s.snapshot_id = g.snapshot_id AND s.sha256 = g.sha256 AND s.parser = 'org_register')
   OR g.rules IS DISTINCT FROM (SELECT md5(macro_definition) FROM duckdb_functions()
                                WHERE schema_name = 'staging' AND function_name = 'credit_code_malformed');

INSERT INTO staging.org_register_groups
WITH todo AS (
    SELECT snapshot_id, sha256 FROM raw.snapshots WHERE parser = 'org_register'
    EXCEPT
    SELECT DISTINCT snapshot_id, sha256 FROM staging.org_register_groups
),
register AS (
    SELECT r.*, t.sha256 FROM staging.org_register AS r JOIN todo AS t USING (snapshot_id)
),
repeated AS (
    SELECT snapshot_id, credit_code
    FROM register
    WHERE credit_code IS NOT NULL
    GROUP BY ALL
    HAVING count(*) > 1
),
checked AS (
    SELECT
        r.snapshot_id, r.sha256, r.province, r.org_type, year(r.founded_on) AS founding_year,
        r.engaged_international,
        r.credit_code IS NULL AS code_missing,
        staging.credit_code_malformed(r.credit_code, r.org_type) AS code_malformed,
        p.credit_code IS NOT NULL AS code_repeated
    FROM register AS r
    LEFT JOIN repeated AS p USING (snapshot_id, credit_code)
)
SELECT
    snapshot_id, sha256,
    (SELECT md5(macro_definition) FROM duckdb_functions()
     WHERE schema_name = 'staging' AND function_name = 'credit_code_malformed') AS rules,
    province, org_type, founding_year,
    count(*) AS registered,
    count(*) FILTER (WHERE engaged_international) AS engaged_international,
    count(*) FILTER (WHERE code_missing) AS credit_code_missing,
    count(*) FILTER (WHERE code_malformed) AS credit_code_malformed,
    count(*) FILTER (WHERE code_repeated) AS credit_code_repeated
FROM checked
GROUP BY ALL;
