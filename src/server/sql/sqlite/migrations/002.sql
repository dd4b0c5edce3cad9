-- 2: the holder of reads nobody could take over (disabled: no login);
-- which trial a study was uploaded for, and who uploaded each instance.
INSERT INTO users (username, display_name, password_hash, admin, disabled, created_at)
  VALUES ('(unassigned)', 'Unassigned', '!', 0, 1, strftime ('%Y-%m-%dT%H:%M:%SZ', 'now'));
ALTER TABLE studies ADD COLUMN trial_id TEXT;
CREATE TABLE uploads (
  sop_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users (id),
  trial_id TEXT, site TEXT, at TEXT NOT NULL);
