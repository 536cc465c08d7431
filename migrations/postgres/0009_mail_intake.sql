-- Where IMAP intake stands in each watched mailbox: the UIDVALIDITY it read under and
-- the first UID it has not taken in yet. Intake reads by UID from here, so a message
-- another client marked read is still taken in; a new UIDVALIDITY starts over (the
-- Message-ID keeps a message read twice from being taken in twice).
CREATE TABLE mail_cursors (
    tenant TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    next_uid BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, employee_id, mailbox)
);

-- The headers that say how a message came to be sent (Auto-Submitted, Precedence,
-- List-Id, X-Empla-Loop), as a JSON object; empty when it had none.
ALTER TABLE mail ADD COLUMN headers TEXT NOT NULL DEFAULT '';
