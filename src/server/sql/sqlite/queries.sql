-- The plugin's queries on SQLite, one "-- name:" block each, ending at the
-- line's semicolon; rr-db-queries.h lists the names. Parameters are ?N.

-- name: audit_page
SELECT seq, at, user, action, object, details, prev_hash, hash FROM audit WHERE seq > ?1 ORDER
  BY seq LIMIT ?2;

-- name: user_by_name
SELECT id, username, display_name, admin, password_hash FROM users WHERE username = ?1 AND
  disabled = 0;

-- name: user_by_session
SELECT u.id, u.username, u.display_name, u.admin FROM sessions s JOIN users u ON u.id =
  s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0;

-- name: session_insert
INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4);

-- name: session_delete
DELETE FROM sessions WHERE token_hash = ?1;

-- name: user_insert
INSERT INTO users (username, display_name, password_hash, admin, created_at) VALUES (?1, ?2,
  ?3, ?4, ?5);

-- name: member_roles_of_user
SELECT trial_id, roles FROM members WHERE user_id = ?1 ORDER BY trial_id;

-- name: member_site_of_user
SELECT site FROM members WHERE user_id = ?1 AND (',' || roles || ',') LIKE '%,site,%' AND site
  IS NOT NULL LIMIT 1;

-- name: user_may_see_study
SELECT 1 FROM studies s WHERE s.study_uid = ?2 AND s.uploaded_by = ?1 AND (s.trial_id IS NULL OR
  EXISTS (SELECT 1 FROM members m WHERE m.trial_id = s.trial_id AND m.user_id = ?1 AND
  (',' || m.roles || ',') LIKE '%,site,%')) UNION ALL SELECT 1 FROM tasks t
  JOIN timepoints cur ON cur.id = t.timepoint_id JOIN timepoints tp ON tp.trial_id = t.trial_id
  AND tp.subject = t.subject AND (tp.id = t.timepoint_id OR (t.kind != 'qc' AND tp.day <
  cur.day AND tp.qc_status IN ('passed', 'none'))) JOIN timepoint_studies ts ON ts.timepoint_id = tp.id
  JOIN members m ON m.trial_id = t.trial_id AND m.user_id = t.user_id AND (',' || m.roles || ',')
  LIKE '%,' || CASE t.kind WHEN 'read' THEN 'reader' WHEN 'adjudication' THEN 'adjudicator' WHEN
  'query' THEN 'site' ELSE 'qc' END || ',%' WHERE t.user_id = ?1 AND
  t.status != 'cancelled' AND ts.study_uid = ?2 LIMIT 1;

-- name: instance_by_sop
SELECT orthanc_id FROM instances WHERE sop_uid = ?1;

-- name: instances_by_series
SELECT orthanc_id FROM instances WHERE series_uid = ?1;

-- name: read_first_instance
SELECT MIN (i.orthanc_id) FROM timepoints tp JOIN timepoint_studies ts ON ts.timepoint_id =
  tp.id JOIN instances i ON i.study_uid = ts.study_uid WHERE tp.trial_id = ?1 AND tp.subject =
  ?2 AND tp.label = ?3 GROUP BY i.series_uid;

-- name: export_reads
SELECT tp.subject, tp.label, t.slot, s.id, s.body, u.display_name, s.submitted_at, s.meaning
  FROM tasks t JOIN timepoints tp ON tp.id = t.timepoint_id JOIN submissions s ON s.task_id =
  t.id JOIN users u ON u.id = s.user_id WHERE t.trial_id = ?1 AND t.kind = 'read' AND t.status
  = 'submitted' ORDER BY tp.subject, tp.day, t.slot;

-- name: export_finals
SELECT tp.subject, tp.label, f.source, s.id, s.body, u.display_name, s.submitted_at, s.meaning,
  au.display_name, a.submitted_at, a.meaning FROM finals f JOIN timepoints tp ON tp.id =
  f.timepoint_id JOIN submissions s ON s.id = f.submission_id JOIN users u ON u.id = s.user_id
  LEFT JOIN tasks ak ON ak.timepoint_id = tp.id AND ak.kind = 'adjudication' AND ak.status =
  'submitted' LEFT JOIN submissions a ON a.task_id = ak.id LEFT JOIN users au ON au.id =
  a.user_id WHERE tp.trial_id = ?1 ORDER BY tp.subject, tp.day;

-- name: trial_exists
SELECT 1 FROM trials WHERE id = ?1;

-- name: export_timepoints
SELECT id, subject, label, day FROM timepoints WHERE trial_id = ?1 ORDER BY subject, day;

-- name: export_subject_readers
SELECT u.username FROM subject_readers s JOIN users u ON u.id = s.user_id WHERE s.trial_id = ?1
  AND s.subject = ?2 AND s.slot = ?3;

-- name: export_adjudication
SELECT t.status, s.body FROM tasks t LEFT JOIN submissions s ON s.task_id = t.id WHERE t.kind =
  'adjudication' AND t.timepoint_id = ?1;

-- name: export_final
SELECT f.source, s.responses FROM finals f JOIN submissions s ON s.id = f.submission_id WHERE
  f.timepoint_id = ?1;

-- name: trial_set_protocol
UPDATE trials SET protocol = ?2 WHERE id = ?1;

-- name: trial_protocol
SELECT protocol FROM trials WHERE id = ?1;

-- name: qc_automated_insert
INSERT INTO qc_automated (task_id, protocol, result) VALUES (?1, ?2, ?3);

-- name: qc_automated_of_task
SELECT protocol, result FROM qc_automated WHERE task_id = ?1;

-- name: timepoint_uploader
SELECT s.uploaded_by FROM timepoint_studies ts JOIN studies s ON s.study_uid = ts.study_uid
  JOIN users u ON u.id = s.uploaded_by JOIN members m ON m.user_id = u.id AND m.trial_id = ?2
  WHERE ts.timepoint_id = ?1 AND u.disabled = 0 AND (',' || m.roles || ',') LIKE '%,site,%'
  ORDER BY ts.study_uid LIMIT 1;

-- name: query_insert
INSERT INTO queries (task_id, qc_task_id, decision, findings) VALUES (?1, ?2, ?3, ?4);

-- name: study_linked_elsewhere
SELECT count (*) FROM timepoint_studies WHERE study_uid = ?1 AND timepoint_id != ?2;

-- name: study_upload_trial
SELECT trial_id FROM studies WHERE study_uid = ?1 AND trial_id IS NOT NULL;

-- name: study_known_to_site
SELECT (SELECT count (*) FROM timepoint_studies WHERE study_uid = ?1 AND timepoint_id = ?2) +
  (SELECT count (*) FROM studies WHERE study_uid = ?1 AND uploaded_by = ?3 AND trial_id IS ?4);

-- name: timepoint_study_uids
SELECT study_uid FROM timepoint_studies WHERE timepoint_id = ?1 ORDER BY study_uid;

-- name: query_reviewer
SELECT u.id FROM queries q JOIN tasks t ON t.id = q.qc_task_id JOIN users u ON u.id = t.user_id
  JOIN members m ON m.user_id = u.id AND m.trial_id = t.trial_id WHERE q.task_id = ?1 AND
  u.disabled = 0 AND (',' || m.roles || ',') LIKE '%,qc,%';

-- name: timepoint_study_unlink
DELETE FROM timepoint_studies WHERE timepoint_id = ?1 AND study_uid = ?2;

-- name: study_upsert
INSERT INTO studies (study_uid, orthanc_id) VALUES (?1, ?2) ON CONFLICT (study_uid) DO UPDATE
  SET orthanc_id = ?2;

-- name: timepoint_study_link_once
INSERT OR IGNORE INTO timepoint_studies (timepoint_id, study_uid) VALUES (?1, ?2);

-- name: timepoint_qc_pending
UPDATE timepoints SET qc_status = 'pending' WHERE id = ?1;

-- name: query_set_answer
UPDATE queries SET response = ?2, answer_qc_task_id = ?3 WHERE task_id = ?1;

-- name: query_of_task
SELECT qc_task_id, decision, findings, response, answer_qc_task_id FROM queries WHERE task_id =
  ?1;

-- name: query_answered_by
SELECT task_id, decision, findings, response FROM queries WHERE answer_qc_task_id = ?1;

-- name: adjudication_task_exists
SELECT 1 FROM tasks WHERE kind = 'adjudication' AND user_id = ?1 AND trial_id = ?2 AND subject
  = ?3 AND timepoint_id = ?4 AND status != 'cancelled';

-- name: submission_of_task
SELECT s.id, s.idempotency_key, s.submitted_at, s.responses, s.body, s.meaning, u.username FROM
  submissions s JOIN users u ON u.id = s.user_id WHERE s.task_id = ?1;

-- name: trial_readers_per_case
SELECT readers_per_case FROM trials WHERE id = ?1;

-- name: trial_adjudication
SELECT adjudication FROM trials WHERE id = ?1;

-- name: final_agreement_insert
INSERT INTO finals (timepoint_id, source, submission_id, decided_at) VALUES (?1, 'agreement',
  ?2, ?3);

-- name: task_set_submitted
UPDATE tasks SET status = 'submitted', version = version + 1 WHERE id = ?1 AND status = 'open';

-- name: submission_receipt
SELECT id, idempotency_key, body_hash, submitted_at, responses FROM submissions WHERE task_id =
  ?1;

-- name: submission_exists
SELECT 1 FROM submissions WHERE task_id = ?1;

-- name: submission_insert
INSERT INTO submissions (id, task_id, idempotency_key, body_hash, body, responses, user_id,
  meaning, submitted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9);

-- name: final_insert
INSERT INTO finals (timepoint_id, source, submission_id, decided_at) VALUES (?1, ?2, ?3, ?4);

-- name: timepoint_set_qc_status
UPDATE timepoints SET qc_status = ?1 WHERE id = ?2;

-- name: pool_by_load
SELECT m.user_id, (SELECT count (*) FROM tasks t WHERE t.user_id = m.user_id AND t.status =
  'open') + (SELECT count (*) FROM subject_readers r WHERE r.user_id = m.user_id AND r.trial_id
  = m.trial_id) AS load FROM members m JOIN users u ON u.id = m.user_id WHERE m.trial_id = ?1
  AND (',' || m.roles || ',') LIKE ?2 AND u.disabled = 0 ORDER BY load, m.user_id;

-- name: task_insert
INSERT INTO tasks (id, kind, trial_id, subject, timepoint_id, user_id, slot, created_at,
  due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9);

-- name: subject_reader_of_slot
SELECT sr.user_id FROM subject_readers sr JOIN members m ON m.trial_id = sr.trial_id AND
  m.user_id = sr.user_id JOIN users u ON u.id = sr.user_id WHERE sr.trial_id = ?1 AND
  sr.subject = ?2 AND sr.slot = ?3 AND (',' || m.roles || ',') LIKE '%,reader,%' AND u.disabled
  = 0;

-- name: unassigned_user_id
SELECT id FROM users WHERE username = '(unassigned)';

-- name: open_reads_of_user
SELECT id, subject, timepoint_id, slot FROM tasks WHERE trial_id = ?1 AND user_id = ?2 AND kind
  = 'read' AND status = 'open' ORDER BY created_at, id;

-- name: subject_readers_of_subject
SELECT user_id, slot FROM subject_readers WHERE trial_id = ?1 AND subject = ?2;

-- name: task_cancel
UPDATE tasks SET status = 'cancelled', version = version + 1 WHERE id = ?1 AND status = 'open';

-- name: subject_readers_delete_user
DELETE FROM subject_readers WHERE trial_id = ?1 AND user_id = ?2;

-- name: trials_with_open_reads
SELECT DISTINCT trial_id FROM tasks WHERE user_id = ?1 AND kind = 'read' AND status = 'open'
  ORDER BY trial_id;

-- name: reader_of_trial_by_name
SELECT u.id FROM users u JOIN members m ON m.user_id = u.id WHERE u.username = ?1 AND
  u.disabled = 0 AND m.trial_id = ?2 AND (',' || m.roles || ',') LIKE '%,reader,%';

-- name: subject_reader_in_other_slot
SELECT 1 FROM subject_readers WHERE trial_id = ?1 AND subject = ?2 AND user_id = ?3 AND slot !=
  ?4;

-- name: task_set_assignee
UPDATE tasks SET user_id = ?1, version = version + 1 WHERE id = ?2 AND status = 'open';

-- name: task_get
SELECT t.id, t.kind, t.trial_id, t.subject, t.status, t.created_at, t.due_at, tr.criteria,
  t.timepoint_id, t.user_id, t.version, t.slot, tp.day, tr.reading FROM tasks t JOIN
  trials tr ON tr.id =
  t.trial_id JOIN timepoints tp ON tp.id = t.timepoint_id WHERE t.id = ?1;

-- name: task_timepoints
SELECT tp.id, tp.label, tp.day FROM timepoints tp WHERE tp.trial_id = ?1 AND tp.subject = ?2
  AND (tp.id = ?3 OR (?4 != 'qc' AND tp.day < ?5 AND tp.qc_status IN ('passed', 'none'))) ORDER
  BY tp.day, tp.id;

-- name: username_by_id
SELECT username FROM users WHERE id = ?1;

-- name: tasks_list
SELECT t.id, t.kind, t.trial_id, t.subject, t.status, t.created_at, t.due_at, tr.criteria,
  t.timepoint_id, t.user_id, t.version, t.slot, tp.day, tr.reading FROM tasks t JOIN
  trials tr ON tr.id =
  t.trial_id JOIN timepoints tp ON tp.id = t.timepoint_id WHERE (t.user_id = ?1 OR ?2) AND (?3
  = 'all' OR t.status = ?3) ORDER BY t.due_at, t.created_at, t.id;

-- name: read_of_slot
SELECT s.body, s.responses, s.id FROM submissions s JOIN tasks t ON t.id = s.task_id WHERE
  t.kind = 'read' AND t.trial_id = ?1 AND t.subject = ?2 AND t.timepoint_id = ?3 AND t.slot =
  ?4;

-- name: earlier_reads_of_subject
SELECT tp.label, s.body, s.responses FROM submissions s JOIN tasks t ON t.id = s.task_id JOIN
  timepoints tp ON tp.id = t.timepoint_id WHERE t.kind = 'read' AND t.user_id = ?1 AND
  t.trial_id = ?2 AND t.subject = ?3 AND tp.day < ?4 ORDER BY tp.day;

-- name: timepoint_instances
SELECT i.study_uid, i.series_uid, i.sop_uid, i.size, i.md5 FROM instances i JOIN
  timepoint_studies ts ON ts.study_uid = i.study_uid WHERE ts.timepoint_id = ?1 ORDER BY
  i.study_uid, i.series_uid, i.sop_uid;

-- name: trial_deid_ensure
INSERT INTO trial_deid (trial_id, key, retain_dates) SELECT id, ?2, coalesce (json_extract
  (protocol, '$.retain_dates'), 0) = 1 FROM trials WHERE id = ?1 ON CONFLICT (trial_id) DO
  NOTHING;

-- name: trial_insert
INSERT INTO trials (id, name, criteria, readers_per_case, qc_required, adjudication, reading,
  sd_min_days, confirmation, protocol, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
  ?10, ?11);

-- name: user_id_by_name
SELECT id FROM users WHERE username = ?1;

-- name: member_is_reader
SELECT 1 FROM members WHERE trial_id = ?1 AND user_id = ?2 AND (',' || roles || ',') LIKE
  '%,reader,%';

-- name: member_roles
SELECT roles FROM members WHERE trial_id = ?1 AND user_id = ?2;

-- name: member_upsert
INSERT INTO members (trial_id, user_id, roles, site) VALUES (?1, ?2, ?3, ?4) ON CONFLICT
  (trial_id, user_id) DO UPDATE SET roles = ?3, site = ?4;

-- name: trial_qc_required
SELECT qc_required FROM trials WHERE id = ?1;

-- name: timepoint_clash
SELECT 1 FROM timepoints WHERE trial_id = ?1 AND subject = ?2 AND (label = ?3 OR day = ?4);

-- name: timepoint_insert
INSERT INTO timepoints (trial_id, subject, label, day, qc_status, created_at) VALUES (?1, ?2,
  ?3, ?4, ?5, ?6) RETURNING id;

-- name: timepoint_study_link
INSERT INTO timepoint_studies (timepoint_id, study_uid) VALUES (?1, ?2);

-- name: member_is_site
SELECT 1 FROM members WHERE trial_id = ?1 AND user_id = ?2 AND (',' || roles || ',') LIKE
  '%,site,%' AND site IS NOT NULL;

-- name: trial_deid_key
SELECT key, retain_dates FROM trial_deid WHERE trial_id = ?1;

-- name: instance_upsert
INSERT OR REPLACE INTO instances (sop_uid, study_uid, series_uid, orthanc_id, size, md5) VALUES
  (?1, ?2, ?3, ?4, ?5, ?6);

-- name: site_membership
SELECT trial_id, site FROM members WHERE user_id = ?1 AND (?2 IS NULL OR trial_id = ?2) AND
  (',' || roles || ',') LIKE '%,site,%' AND site IS NOT NULL ORDER BY trial_id LIMIT 1;

-- name: study_is_own
SELECT uploaded_by = ?2 AND trial_id IS ?3 AND site IS ?4 FROM studies WHERE study_uid = ?1;

-- name: upload_is_own
SELECT user_id = ?2 FROM uploads WHERE sop_uid = ?1;

-- name: study_insert
INSERT INTO studies (study_uid, orthanc_id, uploaded_by, site, trial_id) VALUES (?1, ?2, ?3,
  ?4, ?5) ON CONFLICT (study_uid) DO NOTHING;

-- name: upload_insert
INSERT INTO uploads (sop_uid, study_uid, user_id, trial_id, site, at) VALUES (?1, ?2, ?3, ?4,
  ?5, ?6) ON CONFLICT (sop_uid) DO NOTHING;

-- name: instance_locate
SELECT study_uid, orthanc_id FROM instances WHERE sop_uid = ?1;

-- name: sessions_delete_user
DELETE FROM sessions WHERE user_id = ?1;

-- name: user_rehash
UPDATE users SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3;

-- name: user_set_display_name
UPDATE users SET display_name = ?1 WHERE id = ?2;

-- name: user_set_password
UPDATE users SET password_hash = ?1 WHERE id = ?2;

-- name: user_set_disabled
UPDATE users SET disabled = ?1 WHERE id = ?2;

-- name: user_by_id
SELECT id, username, display_name, admin FROM users WHERE id = ?1;

-- name: subject_reader_clear
DELETE FROM subject_readers WHERE trial_id = ?1 AND subject = ?2 AND (slot = ?3 OR user_id =
  ?4);

-- name: subject_reader_set
INSERT INTO subject_readers (trial_id, subject, slot, user_id) VALUES (?1, ?2, ?3, ?4);

-- name: trial_get
SELECT id, name, criteria, readers_per_case, qc_required, adjudication, reading, sd_min_days,
  confirmation, protocol FROM trials WHERE id = ?1;

-- name: trials_list
SELECT id, name, criteria, readers_per_case, qc_required, adjudication, reading, sd_min_days,
  confirmation, protocol FROM trials ORDER BY id;

-- name: sessions_prune
DELETE FROM sessions WHERE expires_at < strftime ('%s', 'now') - 86400;

-- name: audit_head
SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1;

-- name: audit_insert
INSERT INTO audit (seq, at, user, action, object, details, prev_hash, hash, mac) VALUES (?1,
  ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9);

-- name: audit_all
SELECT seq, at, user, action, object, details, prev_hash, hash, mac FROM audit ORDER BY seq;

-- name: audit_unmaced
SELECT seq, hash FROM audit WHERE mac IS NULL ORDER BY seq;

-- name: audit_set_mac
UPDATE audit SET mac = ?1 WHERE seq = ?2;

-- name: submission_content
SELECT body, coalesce (responses, '') FROM submissions WHERE id = ?1;

-- name: submission_ids
SELECT id FROM submissions;

-- name: task_version
SELECT version FROM tasks WHERE id = ?1;

-- name: login_failures_count
SELECT count (*) FROM login_failures WHERE key = ?1 AND at > ?2;

-- name: login_failure_add
INSERT INTO login_failures (key, at) VALUES (?1, ?2);

-- name: login_failures_prune
DELETE FROM login_failures WHERE at <= ?1;

-- name: login_failures_clear
DELETE FROM login_failures WHERE key = ?1;

-- name: pending_upload_get
SELECT user_id, trial_id, site FROM pending_uploads WHERE study_uid = ?1 AND expires_at > ?2;

-- The first uploader's row, whoever comes next: the caller compares.
-- name: pending_upload_add
INSERT INTO pending_uploads (study_uid, user_id, trial_id, site, count, expires_at)
  VALUES (?1, ?2, ?3, ?4, 1, ?5)
  ON CONFLICT (study_uid) DO UPDATE SET count = pending_uploads.count + 1,
  expires_at = excluded.expires_at
  RETURNING user_id, trial_id, site;

-- name: pending_upload_release
UPDATE pending_uploads SET count = count - 1 WHERE study_uid = ?1;

-- Done, or left behind by a node that stopped while storing.
-- name: pending_upload_remove
DELETE FROM pending_uploads WHERE (study_uid = ?1 AND count <= 0) OR expires_at <= ?2;

-- Sequential reading: the same slot's open read of an earlier timepoint.
-- name: earlier_open_read
SELECT tp.label FROM tasks e JOIN timepoints tp ON tp.id = e.timepoint_id JOIN trials tr ON
  tr.id = e.trial_id WHERE e.trial_id = ?1 AND e.subject = ?2 AND e.kind = 'read' AND e.slot =
  ?3 AND e.status = 'open' AND tp.day < ?4 AND tr.reading = 'sequential' ORDER BY tp.day LIMIT 1;

-- name: timepoint_study_sites
SELECT DISTINCT s.site FROM timepoint_studies ts JOIN studies s ON s.study_uid = ts.study_uid
  WHERE ts.timepoint_id = ?1 AND s.site IS NOT NULL;

-- name: site_member_of_trial_by_name
SELECT u.id, m.site FROM users u JOIN members m ON m.user_id = u.id WHERE u.username = ?1 AND
  u.disabled = 0 AND m.trial_id = ?2 AND (',' || m.roles || ',') LIKE '%,site,%';

-- name: users_list
-- Every account but the holder of unassigned reads (migration 2), which
-- no one signs in as.
SELECT id, username, display_name, admin, disabled FROM users WHERE username <> '(unassigned)'
  ORDER BY username;
