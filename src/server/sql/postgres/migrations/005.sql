-- 5: each trial's de-identification secret (issue 17). Trials that
-- came before get theirs when first asked (trial_deid_ensure), so the
-- random bytes come from libsodium rather than from SQL.
CREATE TABLE trial_deid (
  trial_id text PRIMARY KEY REFERENCES trials (id), key text NOT NULL,
  retain_dates bigint NOT NULL DEFAULT 0);
