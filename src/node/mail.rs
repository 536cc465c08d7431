//! Mail through the node, on the built-in driver: a human sends a message (taken in by
//! the employees addressed through the one mail intake), or reads an address's inbox.

use super::{HumanError, Node};
use crate::model::{
    FieldError, MailMessage, OutgoingMail, bare_address, clean_message_id, is_address,
};
use chrono::Utc;

impl Node {
    /// Sends a message through the built-in mail driver: stored, put in each
    /// recipient's inbox, and handed to each recipient that is an employee. Answers its
    /// Message-ID once all of that is stored.
    pub async fn send_mail(&self, m: OutgoingMail) -> Result<String, HumanError> {
        let errors = m.validate();
        if !errors.is_empty() {
            return Err(HumanError::Invalid(errors));
        }
        let rt = &self.rt;
        if !rt.hands.mail.transport.delivers_locally() {
            return Err(HumanError::MailServer);
        }
        let in_reply_to = m.in_reply_to.as_deref().map(clean_message_id);
        let mut references = Vec::new();
        if let Some(id) = in_reply_to {
            if let Some(o) = rt.store.mail(&rt.tenant, id).await? {
                references = o.references;
            }
            references.push(id.to_string());
        }
        let message = MailMessage {
            message_id: format!("{}@{}", uuid::Uuid::now_v7().simple(), rt.hands.domain),
            from: m.from.trim().to_string(),
            to: m.to.trim().to_string(),
            cc: String::new(),
            subject: m.subject,
            body: m.body,
            in_reply_to: in_reply_to.map(str::to_string),
            references,
            attachments: Vec::new(),
            headers: Default::default(),
            at: Utc::now(),
        };
        crate::capabilities::email::actions::deliver_mail(&rt.hands, &message)
            .await
            .map_err(|e| HumanError::Store(e.to_string()))?;
        Ok(message.message_id)
    }

    /// The messages in an address's inbox, newest first.
    pub async fn mail_inbox(
        &self,
        address: &str,
        limit: i64,
    ) -> Result<Vec<MailMessage>, HumanError> {
        let a = bare_address(address);
        if !is_address(a) {
            return Err(HumanError::Invalid(vec![FieldError::new(
                "address",
                format!("must be a mail address such as `alex@example.com`, got {address:?}"),
            )]));
        }
        Ok(self
            .rt
            .store
            .mail_folder(&self.rt.tenant, a, crate::store::Folder::Inbox, limit)
            .await?)
    }
}
