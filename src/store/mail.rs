//! Mail in the store. A message is stored once per tenant, keyed by its Message-ID,
//! so storing it again (a retried send, an IMAP message read twice after a crash)
//! changes nothing; each address that holds a copy has a `mailbox` row in a folder
//! (`inbox`, `sent`).

use super::rows::parse_json;
use super::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{MailMessage, TenantId};

/// Folder of a mailbox copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// Received.
    Inbox,
    /// Sent.
    Sent,
}

impl Folder {
    fn as_str(self) -> &'static str {
        match self {
            Folder::Inbox => "inbox",
            Folder::Sent => "sent",
        }
    }
}

#[derive(sqlx::FromRow)]
struct MailRow {
    message_id: String,
    sender: String,
    recipients: String,
    cc: String,
    subject: String,
    body: String,
    in_reply_to: Option<String>,
    refs: String,
    attachments: String,
    at: i64,
    headers: String,
}

impl MailRow {
    fn into_message(self) -> Result<MailMessage, StoreError> {
        Ok(MailMessage {
            message_id: self.message_id,
            from: self.sender,
            to: self.recipients,
            cc: self.cc,
            subject: self.subject,
            body: self.body,
            in_reply_to: self.in_reply_to,
            references: self.refs.split_whitespace().map(str::to_string).collect(),
            attachments: serde_json::from_value(parse_json(&self.attachments)?)
                .map_err(|e| StoreError::Corrupt(format!("mail attachments: {e}")))?,
            headers: if self.headers.is_empty() {
                Default::default()
            } else {
                serde_json::from_str(&self.headers)
                    .map_err(|e| StoreError::Corrupt(format!("mail headers: {e}")))?
            },
            at: from_micros(self.at),
        })
    }
}

/// `SELECT <mail columns> FROM mail m <rest>`.
macro_rules! select_mail {
    ($rest:literal) => {
        concat!(
            "SELECT m.message_id, m.sender, m.recipients, m.cc, m.subject, m.body, m.in_reply_to, \
             m.refs, m.attachments, m.at, m.headers FROM mail m ",
            $rest
        )
    };
}

impl Store {
    /// Stores `m` (once: a Message-ID already stored is left as it is) and a copy in
    /// each of `copies` (address, folder). Answers whether the message was new.
    pub async fn put_mail(
        &self,
        tenant: &TenantId,
        m: &MailMessage,
        copies: &[(String, Folder)],
    ) -> Result<bool, StoreError> {
        let attachments = serde_json::to_string(&m.attachments).expect("attachments serialise");
        let refs = m.references.join(" ");
        let headers = if m.headers.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&m.headers).expect("headers serialise")
        };
        let inserted = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let new = sqlx::query(
                "INSERT INTO mail (tenant, message_id, sender, recipients, cc, subject, body, \
                 in_reply_to, refs, thread, attachments, at, headers) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&m.message_id)
            .bind(&m.from)
            .bind(&m.to)
            .bind(&m.cc)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(m.in_reply_to.as_deref())
            .bind(&refs)
            .bind(m.thread())
            .bind(&attachments)
            .bind(to_micros(m.at))
            .bind(&headers)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let (seq,): (i64,) =
                sqlx::query_as("SELECT seq FROM mail WHERE tenant = $1 AND message_id = $2")
                    .bind(tenant.as_str())
                    .bind(&m.message_id)
                    .fetch_one(&mut *tx)
                    .await?;
            for (address, folder) in copies {
                sqlx::query(
                    "INSERT INTO mailbox (tenant, address, mail_seq, folder) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(tenant.as_str())
                .bind(address.to_ascii_lowercase())
                .bind(seq)
                .bind(folder.as_str())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(new)
        })?;
        Ok(inserted)
    }

    /// One stored message.
    pub async fn mail(
        &self,
        tenant: &TenantId,
        message_id: &str,
    ) -> Result<Option<MailMessage>, StoreError> {
        let row: Option<MailRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_mail!("WHERE m.tenant = $1 AND m.message_id = $2"))
                .bind(tenant.as_str())
                .bind(message_id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(MailRow::into_message).transpose()
    }

    /// Records that message `message_id` is being handed to the mail server; false when
    /// an earlier run was doing so already (and its outcome is unknown).
    pub async fn begin_submission(
        &self,
        tenant: &TenantId,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO mail_submissions (tenant, message_id, started_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(message_id)
            .bind(super::to_micros(chrono::Utc::now()))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// The mail server refused message `message_id` (it was not sent): a later run may
    /// submit it again.
    pub async fn end_submission(
        &self,
        tenant: &TenantId,
        message_id: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM mail_submissions WHERE tenant = $1 AND message_id = $2")
                .bind(tenant.as_str())
                .bind(message_id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// How many messages `address` sent in `thread` since `since`.
    pub async fn sent_in_thread(
        &self,
        tenant: &TenantId,
        address: &str,
        thread: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        let (n,): (i64,) = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM mail m JOIN mailbox b ON b.tenant = m.tenant AND b.mail_seq = m.seq \
                 WHERE b.tenant = $1 AND b.address = $2 AND b.folder = 'sent' AND m.thread = $3 AND m.at >= $4",
            )
            .bind(tenant.as_str())
            .bind(address.to_ascii_lowercase())
            .bind(thread)
            .bind(to_micros(since))
            .fetch_one(pool)
            .await
        })?;
        Ok(n.max(0) as u64)
    }

    /// An address's messages in `folder`, newest first.
    pub async fn mail_folder(
        &self,
        tenant: &TenantId,
        address: &str,
        folder: Folder,
        limit: i64,
    ) -> Result<Vec<MailMessage>, StoreError> {
        let rows: Vec<MailRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_mail!(
                "JOIN mailbox b ON b.tenant = m.tenant AND b.mail_seq = m.seq \
                 WHERE b.tenant = $1 AND b.address = $2 AND b.folder = $3 \
                 ORDER BY m.seq DESC LIMIT $4"
            ))
            .bind(tenant.as_str())
            .bind(address.to_ascii_lowercase())
            .bind(folder.as_str())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(MailRow::into_message).collect()
    }
}

/// Where IMAP intake stands in one mailbox (see the `mail_cursors` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailCursor {
    /// The mailbox's UIDVALIDITY when the cursor was set.
    pub uid_validity: u32,
    /// The first UID not yet taken in.
    pub next_uid: u32,
}

impl Store {
    /// Where intake stands in `mailbox` of employee `id`, if it has read it before.
    pub async fn mail_cursor(
        &self,
        tenant: &TenantId,
        id: crate::model::EmployeeId,
        mailbox: &str,
    ) -> Result<Option<MailCursor>, StoreError> {
        let row: Option<(i64, i64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT uid_validity, next_uid FROM mail_cursors \
                 WHERE tenant = $1 AND employee_id = $2 AND mailbox = $3",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .bind(mailbox)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(v, n)| {
            Ok(MailCursor {
                uid_validity: u32::try_from(v)
                    .map_err(|_| StoreError::Corrupt(format!("mail cursor uid_validity {v}")))?,
                next_uid: u32::try_from(n)
                    .map_err(|_| StoreError::Corrupt(format!("mail cursor next_uid {n}")))?,
            })
        })
        .transpose()
    }

    /// Records where intake stands in `mailbox` of employee `id`.
    pub async fn set_mail_cursor(
        &self,
        tenant: &TenantId,
        id: crate::model::EmployeeId,
        mailbox: &str,
        cursor: MailCursor,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO mail_cursors (tenant, employee_id, mailbox, uid_validity, next_uid, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, employee_id, mailbox) \
                 DO UPDATE SET uid_validity = excluded.uid_validity, next_uid = excluded.next_uid, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .bind(mailbox)
            .bind(i64::from(cursor.uid_validity))
            .bind(i64::from(cursor.next_uid))
            .bind(to_micros(chrono::Utc::now()))
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
