-- 7: the state several nodes must share (issue 20): recent failed logins
-- per key ("u:name", "a:address", "p:name address", at in microseconds of
-- real time) and the studies whose first instances are being stored.
-- UNLOGGED: a crash may forget five minutes of failures, never a read.
CREATE UNLOGGED TABLE login_failures (key text NOT NULL, at bigint NOT NULL);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE TABLE pending_uploads (
  study_uid text PRIMARY KEY, user_id bigint NOT NULL, trial_id text, site text,
  count bigint NOT NULL, expires_at bigint NOT NULL);
