-- Compound annual growth rate in percent between two observations `years` apart. A gap between
-- observed years is annualized over its real length, never filled in. NULL where growth is undefined
-- (no time between the points, or a start value that is not positive).
-- (Files in a layer are created in name order: macros are named to sort before the views using them.)
CREATE OR REPLACE MACRO marts.cagr_pct(start_value, end_value, years) AS
    CASE WHEN years > 0 AND start_value > 0 AND end_value >= 0
         THEN 100 * (power(end_value / start_value, 1 / years) - 1)
    END;
COMMENT ON MACRO marts.cagr_pct IS 'Compound annual growth rate, percent per year: 100 * ((end_value / start_value) ^ (1 / years) - 1); NULL when years <= 0 or start_value <= 0.';
