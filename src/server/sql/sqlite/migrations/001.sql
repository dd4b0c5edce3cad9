-- 1: users, sessions, trials and their members.
CREATE TABLE users (
  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE trials (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, criteria TEXT NOT NULL,
  readers_per_case INTEGER NOT NULL, qc_required INTEGER NOT NULL,
  adjudication TEXT NOT NULL, reading TEXT NOT NULL, sd_min_days INTEGER NOT NULL,
  confirmation INTEGER NOT NULL, protocol TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL);
CREATE TABLE members (
  trial_id TEXT NOT NULL REFERENCES trials (id), user_id INTEGER NOT NULL REFERENCES users (id),
  roles TEXT NOT NULL, site TEXT, PRIMARY KEY (trial_id, user_id));
-- Studies stored through us, and what each holds (the manifest).
CREATE TABLE studies (
  study_uid TEXT PRIMARY KEY, orthanc_id TEXT NOT NULL, uploaded_by INTEGER REFERENCES users (id),
  site TEXT);
CREATE TABLE instances (
  sop_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, series_uid TEXT NOT NULL,
  orthanc_id TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL);
CREATE INDEX instances_by_study ON instances (study_uid);
-- Subjects, their timepoints and the readers who keep them.
CREATE TABLE timepoints (
  id INTEGER PRIMARY KEY, trial_id TEXT NOT NULL REFERENCES trials (id),
  subject TEXT NOT NULL, label TEXT NOT NULL, day INTEGER NOT NULL,
  qc_status TEXT NOT NULL DEFAULT 'pending', created_at TEXT NOT NULL,
  UNIQUE (trial_id, subject, label));
CREATE TABLE timepoint_studies (
  timepoint_id INTEGER NOT NULL REFERENCES timepoints (id), study_uid TEXT NOT NULL,
  PRIMARY KEY (timepoint_id, study_uid));
CREATE TABLE subject_readers (
  trial_id TEXT NOT NULL, subject TEXT NOT NULL, slot INTEGER NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users (id), PRIMARY KEY (trial_id, subject, slot),
  UNIQUE (trial_id, subject, user_id));
-- Work: tasks, what was submitted for them, and the outcome.
CREATE TABLE tasks (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, trial_id TEXT NOT NULL REFERENCES trials (id),
  subject TEXT NOT NULL, timepoint_id INTEGER NOT NULL REFERENCES timepoints (id),
  user_id INTEGER NOT NULL REFERENCES users (id), slot INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, due_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1);
CREATE INDEX tasks_by_user ON tasks (user_id, status);
CREATE TABLE submissions (
  id TEXT PRIMARY KEY, task_id TEXT NOT NULL UNIQUE REFERENCES tasks (id),
  idempotency_key TEXT NOT NULL, body_hash TEXT NOT NULL, body TEXT NOT NULL,
  responses TEXT, user_id INTEGER NOT NULL REFERENCES users (id),
  meaning TEXT NOT NULL, submitted_at TEXT NOT NULL);
CREATE TABLE finals (
  timepoint_id INTEGER PRIMARY KEY REFERENCES timepoints (id), source TEXT NOT NULL,
  submission_id TEXT NOT NULL REFERENCES submissions (id), decided_at TEXT NOT NULL);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
  object TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
