-- What "engaged internationally" means in each source. The sources count different things (a field
-- of activity in the MCA statistics, a registration category of foundations, a field in the CASS blue
-- book, foundations that ran projects abroad), so every engaged_international figure gets the
-- definition_id of the first pattern its note matches, and series only ever join figures that share
-- one. A figure whose note matches none keeps a definition of its own: 'unstated:<source_id>' when the
-- source gave none, 'unmatched:<source_id>:<note>' otherwise.
CREATE OR REPLACE VIEW marts.engagement_definitions AS
SELECT * FROM (VALUES
    (1, 'mca_field_international', '国际及其他涉外组织类',
     'Ministry of Civil Affairs statistics',
     'Social associations and private non-enterprise units that the MCA statistics class, by field of activity, as international and other foreign-related organizations.',
     '%国际及其他涉外组织类%'),
    (2, 'mca_foreign_related_foundation', '涉外基金会',
     'Ministry of Civil Affairs statistics',
     'Foundations registered as foreign-related: a registration category of foundations, not a field of activity.',
     '%涉外基金会%'),
    (3, 'bluebook_international_field', '国际及涉外组织领域',
     'CASS social organization blue book',
     'Social organizations the blue book counts in the international and foreign-related field.',
     '%国际及涉外组织领域%'),
    (4, 'cfc_international_projects', 'ran international projects',
     'China Foundation Center',
     'Foundations in the China Foundation Center database that ran international projects.',
     '%ran international projects%')
) AS t(match_order, definition_id, term, counted_by, description, note_pattern);
COMMENT ON VIEW marts.engagement_definitions IS 'Definitions of engaged_international (one row each): id, the term as printed, who counts, what is counted, and the note pattern that assigns a figure to it. Series never join figures with different definition_id.';
COMMENT ON COLUMN marts.engagement_definitions.term IS 'The term as the source printed it.';
COMMENT ON COLUMN marts.engagement_definitions.note_pattern IS 'LIKE pattern on staging.observations.note; the lowest match_order that matches wins.';
