-- One row: the sha256 of sql/ when every table and view of this file was last created from it.
-- Creating them all takes most of a second; a stage that finds the same digest knows they are as
-- sql/ defines them now and skips it (ngobrief.warehouse.create).
CREATE TABLE IF NOT EXISTS audit.schema_digest (
    digest     TEXT NOT NULL,       -- sha256 of the paths and bytes of every file under sql/
    objects    INTEGER NOT NULL,    -- how many tables and views the file then had (one dropped since: create again)
    created_at TIMESTAMP NOT NULL   -- when the tables and views were created from it (UTC)
);
COMMENT ON TABLE audit.schema_digest IS 'The sha256 of sql/ when this file''s tables and views were last created from it: a stage finding the same digest skips creating them again.';
