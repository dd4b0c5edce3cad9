-- 4: a QC task's automated results (NULL: not computed) and the
-- protocol they ran against.
CREATE TABLE qc_automated (
  task_id TEXT PRIMARY KEY REFERENCES tasks (id), protocol TEXT NOT NULL, result TEXT);
