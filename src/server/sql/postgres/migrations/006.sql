-- 6: the query loop of QC (issue 16): each query task, the QC task and
-- decision that opened it, the findings it carries, and once answered
-- the site's response and the fresh QC task it opened.
CREATE TABLE queries (
  task_id text PRIMARY KEY REFERENCES tasks (id), qc_task_id text NOT NULL REFERENCES tasks (id),
  decision text NOT NULL, findings text NOT NULL, response text,
  answer_qc_task_id text REFERENCES tasks (id));
CREATE INDEX queries_by_answer ON queries (answer_qc_task_id);
