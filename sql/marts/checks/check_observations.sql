-- Per-figure structure checks that a Great Expectations built-in cannot state on its own, one row per
-- staging observation: is a count a whole number, and does the date fit the period?
--
-- Counts are the units that count things (organizations, persons, projects, countries); a count that
-- is not whole means a unit was misread (e.g. 49.9 taken for 49.9万). A year-end figure is dated
-- 31 December of its year, a quarter's figure the last day of that quarter, and an `as_of` figure any
-- day of its year.
CREATE OR REPLACE VIEW marts.check_observations AS
WITH observations AS (
    SELECT * FROM staging.observations
),
checked AS (
    SELECT
        year, period, as_of, measure, org_type, source_id, snapshot_id, source_row,
        value, as_published, unit,
        unit IN ('organizations', 'persons', 'projects', 'countries') AS is_count,
        CASE WHEN unit IN ('organizations', 'persons', 'projects', 'countries')
             THEN value = round(value) END AS whole_count,
        CASE period
            WHEN 'year_end' THEN as_of = make_date(year, 12, 31)
            WHEN 'Q1' THEN as_of = make_date(year, 3, 31)
            WHEN 'Q2' THEN as_of = make_date(year, 6, 30)
            WHEN 'Q3' THEN as_of = make_date(year, 9, 30)
            WHEN 'Q4' THEN as_of = make_date(year, 12, 31)
            WHEN 'as_of' THEN year(as_of) = year
        END AS as_of_fits_period
    FROM observations
)
SELECT
    *,
    format('{} {} {} {} ({}, {} row {}): {} as printed {} {}', year, period, measure, org_type, source_id,
           snapshot_id, source_row, value, as_published, unit) AS finding
FROM checked;
COMMENT ON VIEW marts.check_observations IS 'One row per published figure with structure checks GX cannot state directly: whole_count (counts are whole numbers) and as_of_fits_period (the date matches year and period).';
