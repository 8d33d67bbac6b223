-- Does a published percentage (published_share_pct: engaged_international / registered as a source
-- printed it) agree with the ratio recomputed from the chosen published counts?
--
-- Agreement allows only for printed precision: a whole count printed to the unit is exact, a rounded
-- count (22.5万) lies within ± half_unit, and the percentage itself within ± half a unit of its last
-- printed digit (0.22% -> ± 0.005). They agree when the two intervals overlap. A percentage with no
-- counts to recompute it from has agrees = NULL (it cannot be checked, which is not a failure).
CREATE OR REPLACE VIEW marts.check_published_shares AS
WITH figures AS (
    SELECT
        *,
        CASE WHEN unit <> 'percent' AND half_unit <= 0.5 AND value = round(value) THEN 0
             ELSE half_unit END AS uncertainty
    FROM marts.figures
),
published AS (
    SELECT * FROM figures WHERE measure = 'published_share_pct'
),
engaged AS (
    SELECT * FROM figures WHERE measure = 'engaged_international'
),
registered AS (
    SELECT * FROM figures WHERE measure = 'registered'
),
recomputed AS (
    SELECT
        p.year, p.period, p.as_of, p.org_type,
        p.value AS published_share_pct,
        p.as_published,
        p.half_unit AS published_half_unit,
        p.source_id AS published_source_id,
        e.value AS engaged_international,
        e.source_id AS engaged_source_id,
        r.value AS registered,
        r.as_published AS registered_as_published,
        r.source_id AS registered_source_id,
        100 * e.value / r.value AS recomputed_pct,
        100 * (e.value - e.uncertainty) / (r.value + r.uncertainty) AS recomputed_pct_low,
        100 * (e.value + e.uncertainty) / (r.value - r.uncertainty) AS recomputed_pct_high
    FROM published AS p
    LEFT JOIN engaged AS e USING (year, period, as_of, org_type)
    LEFT JOIN registered AS r USING (year, period, as_of, org_type)
),
checked AS (
    SELECT
        *,
        published_share_pct - recomputed_pct AS difference_pct_points,
        published_share_pct / nullif(recomputed_pct, 0) AS published_over_recomputed,
        CASE WHEN recomputed_pct IS NULL THEN NULL
             ELSE published_share_pct + published_half_unit >= recomputed_pct_low
              AND published_share_pct - published_half_unit <= recomputed_pct_high
        END AS agrees
    FROM recomputed
)
SELECT
    *,
    format('{} {} {} ({}): ', year, period, org_type,
           array_to_string(list_sort(list_distinct(list_filter(
               [published_source_id, engaged_source_id, registered_source_id], lambda x: x IS NOT NULL))), ', '))
    || CASE
        WHEN recomputed_pct IS NULL THEN format('published {} but the counts to recompute it are not in the warehouse',
                                                as_published)
        ELSE format('published {}; {:,} / {:,} = {}%', as_published, engaged_international::BIGINT,
                    registered::BIGINT, printf('%.4f', recomputed_pct))
             || CASE WHEN agrees THEN ': agrees within printed precision'
                     ELSE format(': off by {} percentage points ({}x the recomputed ratio)',
                                 printf('%.4f', difference_pct_points), printf('%.1f', published_over_recomputed))
                END
    END AS finding
FROM checked;
COMMENT ON VIEW marts.check_published_shares IS 'Each published percentage against engaged_international / registered recomputed from the chosen counts, with printed-precision bounds, the difference in percentage points and whether they agree.';
