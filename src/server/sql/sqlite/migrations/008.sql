-- 8: what POST .../timepoints checks before its transaction, kept by the
-- database too: on PostgreSQL two nodes can both pass those checks at
-- once, and these indexes refuse the second write (the request then runs
-- again and is refused by the check).
-- A study is one visit of one subject: linked to one timepoint at most.
CREATE UNIQUE INDEX timepoint_studies_one_visit ON timepoint_studies (study_uid);
-- A subject has one visit a day (the label is unique since migration 1).
CREATE UNIQUE INDEX timepoints_one_a_day ON timepoints (trial_id, subject, day);
