-- 8: a study is one visit of one subject: linked to one timepoint at
-- most. POST .../timepoints checks it; on PostgreSQL two nodes can both
-- pass that check at once, and this index refuses the second link.
CREATE UNIQUE INDEX timepoint_studies_one_visit ON timepoint_studies (study_uid);
