-- Registered and internationally engaged organizations by province, type and founding year, per
-- register snapshot, with counts of rows whose credit code is missing, malformed (not 18 characters
-- of the GB 32100 alphabet starting 5 + the type's digit) or repeated within the snapshot. The
-- register suite validates this view, not the million rows behind it (see docs/performance.md).
CREATE OR REPLACE VIEW marts.org_register_by_group AS
WITH register AS (
    SELECT * FROM staging.org_register
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
        r.snapshot_id, r.province, r.org_type, year(r.founded_on) AS founding_year,
        r.engaged_international,
        r.credit_code IS NULL AS code_missing,
        r.credit_code IS NOT NULL AND NOT (
            regexp_full_match(r.credit_code, '5[1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}')
            AND substr(r.credit_code, 2, 1) = CASE r.org_type WHEN 'social_association' THEN '1'
                                                             WHEN 'private_non_enterprise' THEN '2'
                                                             WHEN 'foundation' THEN '3' END
        ) AS code_malformed,
        p.credit_code IS NOT NULL AS code_repeated
    FROM register AS r
    LEFT JOIN repeated AS p USING (snapshot_id, credit_code)
)
SELECT
    snapshot_id, province, org_type, founding_year,
    count(*) AS registered,
    count(*) FILTER (WHERE engaged_international) AS engaged_international,
    100.0 * count(*) FILTER (WHERE engaged_international) / count(*) AS participation_pct,
    count(*) FILTER (WHERE code_missing) AS credit_code_missing,
    count(*) FILTER (WHERE code_malformed) AS credit_code_malformed,
    count(*) FILTER (WHERE code_repeated) AS credit_code_repeated
FROM checked
GROUP BY ALL
ORDER BY snapshot_id, province, org_type, founding_year;
COMMENT ON VIEW marts.org_register_by_group IS 'Register of social organizations counted by province, org_type and founding_year: registered, engaged_international, participation_pct, and rows with missing, malformed or repeated credit codes.';
