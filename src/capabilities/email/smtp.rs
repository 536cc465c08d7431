//! Sending through a real mail server: each employee submits its messages by SMTP
//! (STARTTLS or TLS, with its own login) with lettre. The Message-ID, In-Reply-To and
//! References headers are the node's own, so a reply stays in its thread in the
//! recipient's client.
//!
//! A message is stored in the sender's sent folder once the server has accepted it;
//! a send retried after a crash finds it there and is not submitted again. The
//! submission itself is recorded before it starts: a run of the action finding it
//! recorded but the message not in the sent folder (the node stopped while the server
//! took it) does not submit it again — it may have gone — and fails saying so, so a
//! message is never sent twice, and one that may not have gone is never silent.

use super::MailTransport;
use super::server::MailServer;
use crate::capabilities::CapabilityError;
use crate::config::Security;
use crate::model::{MailMessage, TenantId, bare_address, split_addresses};
use crate::store::{Folder, Store};
use dashmap::DashMap;
use lettre::message::{
    Attachment, Mailbox, MultiPart, SinglePart,
    header::{ContentType, HeaderName, HeaderValue},
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP driver.
pub struct SmtpMail {
    server: Arc<MailServer>,
    store: Store,
    /// A pooled transport per sending address, with the password it was made with.
    transports: DashMap<String, (String, Transport)>,
}

impl SmtpMail {
    /// A driver submitting to `server`, recording sent mail in `store`.
    pub fn new(server: Arc<MailServer>, store: Store) -> Self {
        Self {
            server,
            store,
            transports: DashMap::new(),
        }
    }

    /// The transport of `address`, made on first use and again when its password
    /// changes.
    fn transport(&self, address: &str) -> Result<Transport, CapabilityError> {
        let login = self.server.logins.of(address)?;
        if let Some(t) = self.transports.get(address)
            && t.0 == login.password.expose()
        {
            return Ok(t.1.clone());
        }
        let e = &self.server.smtp;
        let tls = match e.security {
            Security::None => Tls::None,
            Security::Starttls | Security::Tls => {
                let mut params = TlsParameters::builder(e.host.clone());
                if let Some(pem) = &self.server.roots_pem {
                    let cert = Certificate::from_pem(pem).map_err(|err| {
                        CapabilityError::Service(format!("mail.ca_file cannot be used: {err}"))
                    })?;
                    params = params
                        .certificate_store(CertificateStore::None)
                        .add_root_certificate(cert);
                }
                let params = params.build_rustls().map_err(|err| {
                    CapabilityError::Service(format!("TLS settings for SMTP: {err}"))
                })?;
                if e.security == Security::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let transport = Transport::builder_dangerous(e.host.clone())
            .port(e.port)
            .tls(tls)
            .credentials(Credentials::new(
                login.username.clone(),
                login.password.expose().to_string(),
            ))
            .timeout(Some(Duration::from_secs(30)))
            .build();
        self.transports.insert(
            address.to_string(),
            (login.password.expose().to_string(), transport.clone()),
        );
        Ok(transport)
    }
}

/// `m` as lettre builds it for the wire.
pub fn wire_message(m: &MailMessage) -> Result<lettre::Message, CapabilityError> {
    let mailbox = |s: &str| -> Result<Mailbox, CapabilityError> {
        s.parse::<Mailbox>().map_err(|e| {
            CapabilityError::Invalid(format!(
                "{s:?} is not a mail address such as `Sarah Chen <sarah@acme.com>` ({e})"
            ))
        })
    };
    let mut b = lettre::Message::builder()
        .from(mailbox(&m.from)?)
        .subject(m.subject.clone())
        .message_id(Some(format!("<{}>", m.message_id)))
        .date(m.at.into());
    for to in split_addresses(&m.to) {
        b = b.to(mailbox(to)?);
    }
    for cc in split_addresses(&m.cc) {
        b = b.cc(mailbox(cc)?);
    }
    if let Some(r) = &m.in_reply_to {
        b = b.in_reply_to(format!("<{r}>"));
    }
    if !m.references.is_empty() {
        let refs: Vec<String> = m.references.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    for (name, value) in &m.headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|e| CapabilityError::Invalid(format!("header {name:?}: {e}")))?;
        b = b.raw_header(HeaderValue::new(name, value.clone()));
    }
    let built = if m.attachments.is_empty() {
        b.header(ContentType::TEXT_PLAIN).body(m.body.clone())
    } else {
        // The text, then each attachment kept as a file.
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(m.body.clone()));
        for a in &m.attachments {
            let Some(path) = &a.path else { continue };
            let bytes = std::fs::read(path).map_err(|e| {
                CapabilityError::Service(format!("the attachment {path} cannot be read: {e}"))
            })?;
            let kind = ContentType::parse(&a.content_type).unwrap_or_else(|_| {
                ContentType::parse("application/octet-stream").expect("a MIME type")
            });
            parts = parts.singlepart(Attachment::new(a.name.clone()).body(bytes, kind));
        }
        b.multipart(parts)
    };
    built.map_err(|e| CapabilityError::Invalid(format!("the message cannot be built: {e}")))
}

#[async_trait::async_trait]
impl MailTransport for SmtpMail {
    async fn send(&self, tenant: &TenantId, m: &MailMessage) -> Result<(), CapabilityError> {
        let sender = bare_address(&m.from).to_ascii_lowercase();
        if self.store.mail(tenant, &m.message_id).await?.is_some() {
            // Accepted by the server before a crash or a retry: never sent twice.
            return Ok(());
        }
        let transport = self.transport(&sender)?;
        let message = wire_message(m)?;
        if !self.store.begin_submission(tenant, &m.message_id).await? {
            tracing::warn!(message_id = %m.message_id, "not sent again: an earlier run was handing it to the mail server when the node stopped");
            return Err(CapabilityError::Invalid(format!(
                "message <{}> may already have been sent: the node stopped while handing it to the mail server, before the server's answer was recorded; it is not sent a second time — check the recipient's copy and send it anew if it did not arrive",
                m.message_id
            )));
        }
        let sent = transport.send(message).await;
        if sent.is_err() {
            // Refused or not reached: nothing went, a later run may try again.
            self.store.end_submission(tenant, &m.message_id).await?;
        }
        sent.map_err(|e| {
            if e.is_permanent() {
                CapabilityError::Invalid(format!(
                    "the mail server refused the message from {sender}: {e}"
                ))
            } else {
                CapabilityError::Service(format!(
                    "the mail server at {}:{} could not take the message from {sender}: {e}",
                    self.server.smtp.host, self.server.smtp.port
                ))
            }
        })?;
        self.store
            .put_mail(tenant, m, &[(sender, Folder::Sent)])
            .await?;
        Ok(())
    }

    fn delivers_locally(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn the_wire_message_keeps_the_thread_headers() {
        let m = MailMessage {
            message_id: "r1@example.test".into(),
            from: "Renée Müller <renee@example.test>".into(),
            to: "Sarah Chen <sarah@customer.test>".into(),
            cc: "ops@example.test".into(),
            subject: "Re: Export fails".into(),
            body: "On it.".into(),
            in_reply_to: Some("m2@customer.test".into()),
            references: vec!["m1@customer.test".into(), "m2@customer.test".into()],
            attachments: vec![],
            headers: Default::default(),
            at: Utc::now(),
        };
        let wire = String::from_utf8(wire_message(&m).unwrap().formatted()).unwrap();
        assert!(wire.contains("Message-ID: <r1@example.test>"), "{wire}");
        assert!(wire.contains("In-Reply-To: <m2@customer.test>"), "{wire}");
        assert!(
            wire.contains("References: <m1@customer.test> <m2@customer.test>"),
            "{wire}"
        );
        let back = super::super::mime::parse(wire.as_bytes(), 1 << 20, Utc::now()).message;
        assert_eq!(back.from, m.from);
        assert_eq!(back.to, m.to);
        assert_eq!(back.in_reply_to, m.in_reply_to);
        assert_eq!(back.references, m.references);
        assert_eq!(back.body.trim(), "On it.");
    }
}
