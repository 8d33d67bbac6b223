-- Foreign NGOs in China under the Overseas NGO Law (in force since 1 January 2017): representative
-- offices registered with the public security authorities and temporary activities filed, as compiled
-- from Ministry of Public Security data. This is inbound engagement: foreign organizations working in
-- China, not Chinese organizations abroad, so it is kept apart from every participation figure
-- (org_type foreign_ngo belongs to no Chinese total). `series` says what a count is:
--   rep_offices_cumulative            offices registered since 2017 at as_of
--   rep_offices_new                   offices registered in the calendar year
--   organizations_registered          foreign NGOs (organizations, not offices) registered since 2017
--   temporary_activities_cumulative   temporary activities filed since 2017 at as_of
--   temporary_activities_new          temporary activities filed in the calendar year
CREATE OR REPLACE VIEW marts.foreign_ngos_in_china AS
SELECT
    year, period, as_of, measure,
    CASE measure
        WHEN 'foreign_ngo_rep_offices' THEN 'rep_offices_cumulative'
        WHEN 'foreign_ngo_rep_offices_new' THEN 'rep_offices_new'
        WHEN 'foreign_ngos_registered' THEN 'organizations_registered'
        WHEN 'foreign_ngo_temporary_activities' THEN 'temporary_activities_cumulative'
        WHEN 'foreign_ngo_temporary_activities_new' THEN 'temporary_activities_new'
    END AS series,
    value, as_published, half_unit, unit, source_id, n_sources, all_source_ids, note, snapshot_id, source_row
FROM marts.figures
WHERE org_type = 'foreign_ngo';
COMMENT ON VIEW marts.foreign_ngos_in_china IS 'Foreign NGOs in China under the Overseas NGO Law (representative offices, temporary activities; cumulative since 2017 or per year), chosen figures by source priority; inbound engagement, never part of a participation ratio.';
