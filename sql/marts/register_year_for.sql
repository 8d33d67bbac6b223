-- Which register a brief of `edition_year` uses for `measure_name` (a measure of
-- marts.register_measures): the nearest record year (the earlier one on a tie) among the registers
-- that record the measure; only when none records it, the nearest register at all. A register that
-- has the measure is never swapped for a nearer or later one that lacks it; the brief names the year
-- it uses when it is not the edition's.
CREATE OR REPLACE MACRO marts.register_year_for(edition_year, measure_name) AS TABLE
SELECT record_year, recorded > 0 AS measure_recorded
FROM marts.register_measures
WHERE measure = measure_name
ORDER BY recorded > 0 DESC, abs(record_year - edition_year), record_year
LIMIT 1;
COMMENT ON MACRO TABLE marts.register_year_for IS 'The register year a brief of edition_year uses for a measure: the nearest record year among registers that record it (earlier on a tie); only when none does, the nearest register.';
