-- 6: the query loop of QC (issue 16): each query task, the QC task and
-- decision that opened it, the findings it carries, and once answered
-- the site's response and the fresh QC task it opened.
CREATE TABLE queries (
  task_id TEXT PRIMARY KEY REFERENCES tasks (id), qc_task_id TEXT NOT NULL REFERENCES tasks (id),
  decision TEXT NOT NULL, findings TEXT NOT NULL, response TEXT,
  answer_qc_task_id TEXT REFERENCES tasks (id));
CREATE INDEX queries_by_answer ON queries (answer_qc_task_id);
