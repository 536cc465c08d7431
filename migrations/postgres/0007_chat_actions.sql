-- The action (outbox key) that posts an employee's chat message. Its copy is stored
-- before the message goes out to Slack, so a retried action knows it was tried and
-- looks in the conversation before posting again.
ALTER TABLE chat_messages ADD COLUMN action TEXT;
CREATE INDEX chat_by_action ON chat_messages (tenant, action) WHERE action IS NOT NULL;
