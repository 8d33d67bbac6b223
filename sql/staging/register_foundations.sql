-- The RICF foundation register, typed: one row per foundation and record year. Labels are mapped to
-- the project's words (公募 -> foundation_public, 全国 -> national) with the printed label kept beside;
-- figures are never changed. See docs/sources.md for every rule.
CREATE TABLE IF NOT EXISTS staging.register_foundations (
    record_year                     INTEGER NOT NULL,
    ricf_oid                        BIGINT NOT NULL,
    name_zh                         TEXT NOT NULL,     -- trimmed
    name_en                         TEXT,              -- trimmed; often cut at 40 characters in the source
    registration_no                 TEXT,
    org_code                        TEXT,
    mission                         TEXT,
    business_scope                  TEXT,
    focus_areas                     TEXT[],            -- split on ， , 、 ； ; NULL when none is stated
    international_focus             BOOLEAN,           -- focus_areas include 国际事务 (international affairs)
    org_type                        TEXT,              -- foundation_public (公募) | foundation_nonpublic (非公募)
    foundation_type_as_published    TEXT,
    scope                           TEXT,              -- national (全国) | local (地方)
    scope_as_published              TEXT,
    registering_authority           TEXT,
    supervisory_unit                TEXT,
    founded_on                      DATE,
    founded_as_published            TEXT,              -- M/D/YYYY as printed
    endowment_yuan                  DOUBLE,            -- original endowment in yuan (200万元 -> 2,000,000)
    endowment_as_published          TEXT,
    endowment_half_unit             DOUBLE,            -- printed precision (200万元 -> 5,000 yuan)
    province                        TEXT,              -- pinyin, as the register spells it
    province_as_published           TEXT,
    city                            TEXT,              -- as published
    leaders_state_employees         INTEGER,
    leaders_former_senior_officials INTEGER,
    full_time_staff                 INTEGER,
    volunteers                      INTEGER,
    evaluation_grade                TEXT,              -- 1A..5A or 未参评 (not evaluated); blank -> NULL
    special_funds                   BIGINT,            -- as published (some values look like amounts)
    tax_status                      TEXT[],            -- 无 (none) -> empty list; blank -> NULL
    source_id                       TEXT NOT NULL,
    snapshot_id                     TEXT NOT NULL,
    source_row                      BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, source_row)
);
COMMENT ON TABLE staging.register_foundations IS 'RICF foundation register, typed: type, scope, province, founding date, endowment (yuan, with printed precision), focus areas and whether they include 国际事务; no personal or contact fields. Cite RICF (Ma, Wang, Dong & Li 2017).';
