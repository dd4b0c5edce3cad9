-- 3: each event's hash MACed under the audit key (rr_server_db_open
-- MACs the events that came before, once, as it migrates).
ALTER TABLE audit ADD COLUMN mac text;
