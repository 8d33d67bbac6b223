-- Do the sub-types add up to their total, within the precision the source printed?
--
-- Which sub-types make up which total (the categories of the MCA statistical bulletins):
--   all        = social_association + private_non_enterprise + foundation
--   foundation = foundation_public + foundation_nonpublic
--                + foundation_foreign_related + foundation_overseas_rep_office
-- The last two are remainder categories. The 2012 MCA bulletin prints all four and they sum exactly
-- to its 3,029 foundations (1,316 + 1,686 + 8 + 19), so they are disjoint parts of the total, not
-- subsets of 公募/非公募. China Foundation Center counts print only 公募 and 非公募; when a source
-- prints no remainder category the check still compares, with the breakdown marked
-- `remainder_not_printed`, so the gap is shown (it may be the unprinted remainder) rather than hidden.
-- A breakdown that lacks a required part (e.g. no foundation figure) is `incomplete` and cannot be
-- summed: adds_up is NULL there.
--
-- Tolerance comes from the printed precision only: a whole count printed to the unit (3,029) is
-- exact (tolerance 0); a rounded figure (49.9万, or 702,000 printed in full: marts.printed_half_unit)
-- lies within ± half a unit of its last significant printed digit (500 for both); the tolerance is the
-- sum of those half units over the total and its parts, the same on either basis.
--
-- Each breakdown is checked twice: within each single source (does one publication add up?), and on
-- the chosen figures of marts.figures when those come from more than one source (do the figures a
-- brief shows add up?).
CREATE OR REPLACE VIEW marts.check_subtotals AS
WITH composition AS (
    SELECT * FROM (VALUES
        ('all', 1, 'social_association', true),
        ('all', 2, 'private_non_enterprise', true),
        ('all', 3, 'foundation', true),
        ('foundation', 1, 'foundation_public', true),
        ('foundation', 2, 'foundation_nonpublic', true),
        ('foundation', 3, 'foundation_foreign_related', false),
        ('foundation', 4, 'foundation_overseas_rep_office', false)
    ) AS c(total_org_type, part_order, part_org_type, required)
),
single_source AS (
    SELECT 'single_source' AS basis, source_id AS grouping, year, period, as_of, measure, org_type,
           value, as_published, marts.printed_half_unit(value, half_unit, unit) AS half_unit, unit, source_id
    FROM staging.observations
),
chosen AS (
    SELECT 'chosen_figures' AS basis, 'chosen' AS grouping, year, period, as_of, measure, org_type,
           value, as_published, half_unit, unit, source_id
    FROM marts.figures
),
figures AS (
    SELECT
        *,
        -- exact figures exactly: a whole count printed to the unit carries no rounding
        CASE WHEN half_unit <= 0.5 AND value = round(value) THEN 0 ELSE half_unit END AS uncertainty
    FROM (SELECT * FROM single_source UNION ALL SELECT * FROM chosen)
    WHERE unit <> 'percent'
),
totals AS (
    SELECT f.*
    FROM figures AS f
    WHERE f.org_type IN (SELECT DISTINCT total_org_type FROM composition)
),
parts AS (
    SELECT
        t.basis, t.grouping, t.year, t.period, t.as_of, t.measure, t.org_type AS total_org_type,
        c.part_order, c.part_org_type, c.required,
        p.value, p.as_published, p.uncertainty, p.source_id
    FROM totals AS t
    JOIN composition AS c ON c.total_org_type = t.org_type
    LEFT JOIN figures AS p
      ON p.basis = t.basis AND p.grouping = t.grouping AND p.year = t.year AND p.period = t.period
     AND p.as_of = t.as_of AND p.measure = t.measure AND p.org_type = c.part_org_type
),
summed AS (
    SELECT
        basis, grouping, year, period, as_of, measure, total_org_type,
        list(part_org_type ORDER BY part_order) FILTER (WHERE value IS NOT NULL) AS parts_printed,
        list(part_org_type ORDER BY part_order) FILTER (WHERE value IS NULL AND required) AS parts_missing,
        count(*) FILTER (WHERE value IS NOT NULL AND NOT required) AS remainders_printed,
        count(*) FILTER (WHERE value IS NOT NULL) AS n_parts,
        sum(value) AS parts_sum,
        coalesce(sum(uncertainty), 0) AS parts_uncertainty,
        max(value) AS largest_part,
        arg_max(part_org_type, value) AS largest_part_org_type,
        list(DISTINCT source_id) FILTER (WHERE source_id IS NOT NULL) AS part_source_ids
    FROM parts
    GROUP BY ALL
),
checked AS (
    SELECT
        s.basis, s.year, s.period, s.as_of, s.measure, s.total_org_type AS org_type,
        t.value AS total, t.as_published AS total_as_published,
        s.parts_sum, s.parts_printed, s.parts_missing,
        CASE
            WHEN len(s.parts_missing) > 0 THEN 'incomplete'
            WHEN s.total_org_type = 'foundation' AND s.remainders_printed = 0 THEN 'remainder_not_printed'
            ELSE 'complete'
        END AS breakdown,
        -- positive: the total is larger than its printed parts; NULL: the parts cannot be summed
        CASE WHEN len(s.parts_missing) > 0 THEN NULL ELSE t.value - s.parts_sum END AS difference,
        t.uncertainty + s.parts_uncertainty AS tolerance,
        s.largest_part, s.largest_part_org_type,
        list_sort(list_distinct(list_concat([t.source_id], s.part_source_ids))) AS source_ids
    FROM summed AS s
    JOIN totals AS t
      ON t.basis = s.basis AND t.grouping = s.grouping AND t.year = s.year AND t.period = s.period
     AND t.as_of = s.as_of AND t.measure = s.measure AND t.org_type = s.total_org_type
    WHERE s.n_parts > 0
)
SELECT
    basis, year, period, as_of, measure, org_type,
    array_to_string(source_ids, ',') AS source_ids,
    total, total_as_published, parts_sum, parts_printed, parts_missing, breakdown,
    difference, tolerance,
    CASE WHEN breakdown = 'incomplete' THEN NULL ELSE abs(difference) <= tolerance END AS adds_up,
    -- a part larger than the whole cannot be, whatever else the source left out
    largest_part - tolerance > total AS part_exceeds_total,
    largest_part_org_type,
    format('{} {} {} {} ({}): ', year, period, measure, org_type, array_to_string(source_ids, ', '))
    || CASE
        WHEN breakdown = 'incomplete' THEN
            format('{} not printed, so the parts cannot be summed', array_to_string(parts_missing, ', '))
        ELSE
            format('{} = {:,}', array_to_string(parts_printed, ' + '), parts_sum::BIGINT)
            || CASE
                WHEN abs(difference) <= tolerance THEN format(', total {:,}: adds up', total::BIGINT)
                WHEN difference > 0 THEN format(', but the total is {:,}: the total exceeds its parts by {:,}',
                                                total::BIGINT, difference::BIGINT)
                ELSE format(', but the total is {:,}: the parts exceed the total by {:,}',
                            total::BIGINT, (-difference)::BIGINT)
               END
            || format(' (printed precision allows {:,})', tolerance::BIGINT)
            || CASE WHEN breakdown = 'remainder_not_printed'
                    THEN '; no remainder category (foreign-related, overseas representative office) printed'
                    ELSE '' END
    END AS finding
FROM checked
WHERE basis = 'single_source' OR len(source_ids) > 1;
COMMENT ON VIEW marts.check_subtotals IS 'Sub-types against their printed total per year, period, as_of, measure and source (and on the chosen figures when they mix sources): sum, difference, tolerance from printed precision, adds_up.';
