-- Forgetting a person deletes their mail with every mailbox's copy of it: the copies
-- are found by the message they hold.
CREATE INDEX mailbox_by_mail ON mailbox (tenant, mail_seq);
