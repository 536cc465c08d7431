-- A message being handed to the mail server: recorded before the submission, so a run
-- of the action after a crash knows the message may have gone (the server's answer was
-- not recorded) and does not send it a second time. Times are microseconds since the
-- epoch.
CREATE TABLE mail_submissions (
    tenant TEXT NOT NULL,
    message_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, message_id)
);
