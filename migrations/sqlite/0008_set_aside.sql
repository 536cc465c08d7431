-- Events set aside after crashing their employee again and again (dead letters): they
-- count as processed, so replay passes them, until an operator retries or drops them.
ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN set_aside_at BIGINT;
ALTER TABLE inbox ADD COLUMN set_aside_reason TEXT;
ALTER TABLE inbox ADD COLUMN dropped_at BIGINT;
CREATE INDEX inbox_set_aside ON inbox (tenant, employee_id, seq)
    WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL;

-- The action that last changed a task: a task update retried after a crash knows it
-- made the change and still tells the requester.
ALTER TABLE tasks ADD COLUMN updated_by TEXT;
