-- Whether a published percentage cannot follow from the printed counts. Each count is known only to
-- within half a unit of its last printed digit (49.9万 = 499,000 ± 500), so the true ratio lies in
-- [low, high]; the published percentage disagrees when no value in that range rounds to it.
CREATE OR REPLACE MACRO marts.disagrees_with_counts(
        published_pct, published_half_unit,
        numerator, numerator_half_unit, denominator, denominator_half_unit) AS
    CASE WHEN published_pct IS NULL OR numerator IS NULL OR denominator IS NULL THEN NULL
         ELSE published_pct + published_half_unit
                  < 100 * (numerator - numerator_half_unit) / (denominator + denominator_half_unit)
           OR published_pct - published_half_unit
                  > 100 * (numerator + numerator_half_unit) / (denominator - denominator_half_unit)
    END;
COMMENT ON MACRO marts.disagrees_with_counts IS 'TRUE when a published percentage (± its half unit) lies outside every ratio the printed numerator and denominator (± their half units) allow; NULL when a part is missing.';
