-- A national register of social organizations exactly as loaded: one row per organization, every
-- cell as text, with the snapshot and the file line it came from. Unlike the other raw tables it has
-- no primary key: (snapshot_id, source_row) is unique by construction (one row per file line, a
-- snapshot's rows replaced in one transaction), and its index cost ~2 s of each million-row
-- snapshot's load, about as much as the insert itself (docs/performance.md).
CREATE TABLE IF NOT EXISTS raw.org_register (
    snapshot_id            TEXT NOT NULL,
    source_row             BIGINT NOT NULL,   -- line in the file (header = 1, after any # notes)
    credit_code            TEXT,              -- 统一社会信用代码
    name                   TEXT,              -- 社会组织名称
    org_type               TEXT,              -- 社会组织类型, as printed
    registering_authority  TEXT,              -- 登记管理机关
    province               TEXT,              -- 所在省份
    founded_on             TEXT,              -- 成立登记日期, as printed
    business_scope         TEXT,              -- 业务范围
    engaged_international  TEXT               -- 国际交流合作 (是/否), as printed
);
COMMENT ON TABLE raw.org_register IS 'Register of social organizations as loaded: text cells with the snapshot and line they came from.';
