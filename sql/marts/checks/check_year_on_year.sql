-- Year-on-year change of each count series, for a plausibility check (a warning, never a gate).
--
-- A series is one measure for one org_type in one kind of period: year-end figures, and each quarter,
-- are separate series (they are never compared with each other), and `as_of` figures, which have no
-- regular dates, are left out. Each figure is compared with the previous year the series has; over a
-- gap the change is annualised (compound), so a register that grows 10 % a year looks the same with or
-- without missing years. The bounds that count as plausible live in the suite file
-- (expectations/marts_check_year_on_year.json), where they are reviewed with the other expectations.
CREATE OR REPLACE VIEW marts.check_year_on_year AS
WITH series AS (
    SELECT year, period, as_of, measure, org_type, value, as_published, source_id
    FROM marts.figures
    WHERE period <> 'as_of' AND unit <> 'percent'
),
paired AS (
    SELECT
        *,
        lag(year) OVER w AS previous_year,
        lag(value) OVER w AS previous_value,
        lag(as_published) OVER w AS previous_as_published,
        lag(source_id) OVER w AS previous_source_id
    FROM series
    WINDOW w AS (PARTITION BY period, measure, org_type ORDER BY year)
),
changed AS (
    SELECT
        year, period, as_of, measure, org_type,
        previous_year, year - previous_year AS years_between,
        previous_value, value,
        previous_as_published, as_published,
        previous_source_id, source_id,
        100 * (value / previous_value - 1) AS change_pct,
        100 * (power(value / previous_value, 1.0 / (year - previous_year)) - 1) AS annual_change_pct,
        -- The same count printed for two consecutive years by two different sources is more likely one
        -- figure given two year labels (e.g. an end-2021 count called end-2020) than a standstill.
        value = previous_value AND year - previous_year = 1 AND source_id <> previous_source_id
            AS repeats_previous_year
    FROM paired
    WHERE previous_year IS NOT NULL AND previous_value > 0
)
SELECT
    *,
    format('{} {} {} {}: {} ({}) after {} in {} ({}): {}{}% in {} year{}, {}{}% a year',
           year, period, measure, org_type, as_published, source_id, previous_as_published, previous_year,
           previous_source_id, CASE WHEN change_pct >= 0 THEN '+' ELSE '' END, printf('%.1f', change_pct),
           years_between, CASE WHEN years_between = 1 THEN '' ELSE 's' END,
           CASE WHEN annual_change_pct >= 0 THEN '+' ELSE '' END, printf('%.1f', annual_change_pct)) AS finding
FROM changed;
COMMENT ON VIEW marts.check_year_on_year IS 'Change of each chosen count from the previous year of its series (year-end and each quarter apart), total and annualised, for plausibility bounds.';
