-- The RICF foundation register as loaded: the codebook's fields only, every cell as text. Personal
-- names, contact details and addresses are dropped before anything is written here.
CREATE TABLE IF NOT EXISTS raw.register_foundations (
    snapshot_id   TEXT NOT NULL,
    source_row    BIGINT NOT NULL,
    ricf_oid      TEXT,
    ba_rdt        TEXT,
    ba_cn         TEXT,
    ba_en         TEXT,
    ba_rid        TEXT,
    ba_org        TEXT,
    ba_msn        TEXT,
    ba_srv        TEXT,
    ba_fcs        TEXT,
    ba_ntr        TEXT,
    ba_rng        TEXT,
    ba_reg        TEXT,
    ba_sup        TEXT,
    ba_fdt        TEXT,
    ba_fnd        TEXT,
    ba_prv        TEXT,
    ba_ct         TEXT,
    ba_gvm        TEXT,
    ba_pgv        TEXT,
    ba_nfe        TEXT,
    ba_nv         TEXT,
    ba_evl        TEXT,
    ba_sf         TEXT,
    ba_tax        TEXT,
    PRIMARY KEY (snapshot_id, source_row)
);
COMMENT ON TABLE raw.register_foundations IS 'RICF foundation register as loaded (codebook fields only, text; no personal or contact fields), with the snapshot and row.';
