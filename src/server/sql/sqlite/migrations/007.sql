-- 7: the state several nodes must share (issue 20): recent failed logins
-- per key ("u:name", "a:address", "p:name address", at in microseconds of
-- real time) and the studies whose first instances are being stored. On
-- SQLite (one process) the plugin keeps both in memory, as before, and
-- these stay empty: the same number is the same schema on both backends.
CREATE TABLE login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE TABLE pending_uploads (
  study_uid TEXT PRIMARY KEY, user_id INTEGER NOT NULL, trial_id TEXT, site TEXT,
  count INTEGER NOT NULL, expires_at INTEGER NOT NULL);
