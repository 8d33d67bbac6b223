-- Wide tables (a year × org-type table, CSV or XLSX) exactly as read: every cell as text, by position.
CREATE TABLE IF NOT EXISTS raw.table_cells (
    snapshot_id   TEXT NOT NULL,
    source_row    BIGINT NOT NULL,    -- row number as a spreadsheet shows it
    column_no     INTEGER NOT NULL,   -- 1 = column A
    column_name   TEXT,               -- the column's header for cells below the header row, else NULL
    cell          TEXT,
    PRIMARY KEY (snapshot_id, source_row, column_no)
);
COMMENT ON TABLE raw.table_cells IS 'Cells of wide-layout snapshots (titles, unit lines, header and figures) as text, with row and column.';
