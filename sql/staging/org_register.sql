-- The register, typed: org_type in our words (社会服务机构 counts as private_non_enterprise), the
-- founding date as a date and the international flag as a boolean. Nothing is dropped or corrected:
-- malformed or repeated credit codes stay, and marts.org_register_by_group counts them. No primary
-- key, as in raw.org_register (why is said there).
CREATE TABLE IF NOT EXISTS staging.org_register (
    credit_code            TEXT,
    name                   TEXT,
    org_type               TEXT NOT NULL,     -- social_association | private_non_enterprise | foundation
    registering_authority  TEXT,
    province               TEXT NOT NULL,
    founded_on             DATE NOT NULL,
    business_scope         TEXT,
    engaged_international  BOOLEAN NOT NULL,
    source_row             BIGINT NOT NULL,
    snapshot_id            TEXT NOT NULL
);
COMMENT ON TABLE staging.org_register IS 'Register of social organizations, typed: one row per organization with type, province, founding date and international flag.';
