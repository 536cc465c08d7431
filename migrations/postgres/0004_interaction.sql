-- How humans reach employees: the mail the node holds (sent and received, through the
-- built-in driver or IMAP/SMTP), each address's copy of it, chat messages, and tasks
-- delegated to employees.

-- One row per message. `thread` is the first message of its thread.
CREATE TABLE mail (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    recipients   TEXT    NOT NULL,
    cc           TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    in_reply_to  TEXT,
    refs         TEXT    NOT NULL,
    thread       TEXT    NOT NULL,
    attachments  TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    UNIQUE (tenant, message_id)
);

-- Who holds a copy: the recipients' inboxes (built-in driver) and the employees'
-- mailboxes (sent and received).
CREATE TABLE mailbox (
    tenant      TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    mail_seq    BIGINT  NOT NULL,
    folder      TEXT    NOT NULL,
    PRIMARY KEY (tenant, address, folder, mail_seq)
);

-- Chat: what humans said to employees and what they answered.
CREATE TABLE chat_messages (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    employee_id   TEXT    NOT NULL,
    conversation  TEXT    NOT NULL,
    sender        TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    in_reply_to   TEXT,
    at            BIGINT  NOT NULL
);
CREATE INDEX chat_by_conversation ON chat_messages (tenant, employee_id, conversation, seq);
CREATE INDEX chat_by_reply ON chat_messages (tenant, in_reply_to) WHERE in_reply_to IS NOT NULL;

-- Tasks delegated to employees. `channel` is where updates go back to the requester.
CREATE TABLE tasks (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    priority     TEXT    NOT NULL,
    deadline     BIGINT,
    requester    TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    progress     DOUBLE PRECISION NOT NULL,
    result       TEXT,
    intention    BIGINT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX tasks_by_employee ON tasks (tenant, employee_id, created_at);
