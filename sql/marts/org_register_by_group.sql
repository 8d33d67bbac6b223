-- Registered and internationally engaged organizations by province, type and founding year, per
-- register snapshot, with counts of rows whose credit code is missing, malformed or repeated within
-- the snapshot. The counting and the code checks are staging.org_register_groups' (done once per
-- snapshot, when it is loaded); the register suite validates this view, not the million rows behind
-- it (see docs/performance.md).
CREATE OR REPLACE VIEW marts.org_register_by_group AS
SELECT
    g.snapshot_id, g.province, g.org_type, g.founding_year,
    g.registered,
    g.engaged_international,
    100.0 * g.engaged_international / g.registered AS participation_pct,
    g.credit_code_missing,
    g.credit_code_malformed,
    g.credit_code_repeated
FROM staging.org_register_groups AS g
JOIN raw.snapshots AS s ON s.snapshot_id = g.snapshot_id AND s.sha256 = g.sha256
ORDER BY g.snapshot_id, g.province, g.org_type, g.founding_year;
COMMENT ON VIEW marts.org_register_by_group IS 'Register of social organizations counted by province, org_type and founding_year: registered, engaged_international, participation_pct, and rows with missing, malformed or repeated credit codes.';
