-- Half a unit of the last significant digit a count was printed with. The parser records half a unit
-- of the last digit printed (49.9万 -> 500; 3,029 -> 0.5), but a round count printed in full
-- (702,000, the English report of 70.2万) shows trailing zeros that carry no precision: it is known
-- only to its last non-zero digit (± 500). A count of ten thousand or more that is a whole number of
-- thousands is read that way; any other figure keeps the parser's half unit.
CREATE OR REPLACE MACRO marts.printed_half_unit(value, half_unit, unit) AS
    CASE WHEN unit <> 'percent' AND value >= 10000 AND value % 1000 = 0 AND half_unit < 500
         THEN greatest(half_unit,
                       5 * pow(10, (SELECT max(k) FROM range(3, 9) AS t(k) WHERE value % pow(10, k) = 0)) / 10)
         ELSE half_unit
    END;
COMMENT ON MACRO marts.printed_half_unit IS 'Half a unit of the last significant digit a figure was printed with: a round count printed in full (702,000) is known to ± 500, not to the unit.';
