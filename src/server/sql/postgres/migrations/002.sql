-- 2: the holder of reads nobody could take over (disabled: no login);
-- which trial a study was uploaded for, and who uploaded each instance.
INSERT INTO users (username, display_name, password_hash, admin, disabled, created_at)
  VALUES ('(unassigned)', 'Unassigned', '!', 0, 1, to_char (now () AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
ALTER TABLE studies ADD COLUMN trial_id text;
CREATE TABLE uploads (
  sop_uid text PRIMARY KEY, study_uid text NOT NULL, user_id bigint NOT NULL REFERENCES users (id),
  trial_id text, site text, at text NOT NULL);
