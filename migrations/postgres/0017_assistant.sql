-- The Executive Assistant's delegated mail.
--
-- `employees.reads_for` is the (lowercase) address of the executive whose mail an
-- employee reads: its human manager, when its permissions grant `email =
-- ["read_delegated"]`. Mail to that address reaches the employee as `email.delegated`.
ALTER TABLE employees ADD COLUMN reads_for TEXT;
UPDATE employees SET reads_for = lower(profile::jsonb #>> '{manager,email}')
 WHERE profile::jsonb #>> '{manager,kind}' = 'human'
   AND (profile::jsonb -> 'permissions' -> 'email') @> '["read_delegated"]'::jsonb;
CREATE INDEX employees_reads_for ON employees (tenant, reads_for);

-- Each delegated message as the assistant triaged it: a label (`needs_reply`, `fyi`,
-- `meeting_request`, `urgent`), a priority, a summary in a sentence or two and why it
-- was labelled so. Triaged once per assistant and message; `notified_at` is when an
-- urgent one was put in front of the executive.
CREATE TABLE triaged_mail (
    tenant TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    executive TEXT NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    label TEXT NOT NULL,
    priority TEXT NOT NULL,
    rank BIGINT NOT NULL,
    summary TEXT NOT NULL,
    reason TEXT NOT NULL,
    triaged_at BIGINT NOT NULL,
    notified_at BIGINT,
    PRIMARY KEY (tenant, employee_id, message_id)
);
CREATE INDEX triaged_mail_by_rank ON triaged_mail (tenant, employee_id, rank, received_at);
