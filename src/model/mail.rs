//! Mail as the node keeps it: one message with its thread headers, the addresses it
//! was written from and to, and its attachments (kept as files, named here). The same
//! shape comes from the built-in local driver and from IMAP, and goes out through the
//! built-in driver or SMTP.

use super::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest accepted subject, in bytes.
pub(super) const MAX_SUBJECT: usize = 998;
/// Longest accepted body through the API, in bytes.
pub(super) const MAX_BODY: usize = 1 << 20;

/// One mail message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MailMessage {
    /// Message-ID without the angle brackets, e.g. `0b4e…@example.com`.
    pub message_id: String,
    /// The sender as written: `Name <address>` or an address.
    pub from: String,
    /// The recipients as written, comma-separated.
    pub to: String,
    /// Copies, comma-separated; empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cc: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body (from the HTML part when there is no text part).
    pub body: String,
    /// The message this one answers.
    pub in_reply_to: Option<String>,
    /// The thread so far, oldest first (References).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Attachments, stored as files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The headers that say how a message came to be sent, as written (RFC 3834's
    /// `Auto-Submitted`, `Precedence`, `List-Id`, and the node's own [`LOOP_HEADER`]):
    /// what decides whether an employee may answer it on its own.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    /// When it was sent or received.
    pub at: DateTime<Utc>,
}

/// The header every message an employee writes carries: how many messages in a row,
/// counting this one, employees have written in its thread with no human between. A
/// node that receives one at [`LOOP_LIMIT`] answers it with nothing on its own.
pub const LOOP_HEADER: &str = "X-Empla-Loop";
/// Messages in a row written by employees, after which no employee answers on its own.
pub const LOOP_LIMIT: u32 = 6;
/// The headers kept from inbound mail (see [`MailMessage::headers`]).
pub const KEPT_HEADERS: [&str; 4] = ["Auto-Submitted", "Precedence", "List-Id", LOOP_HEADER];

impl MailMessage {
    /// Why no employee may answer this message on its own (RFC 3834), if it may not:
    /// it was sent automatically (`Auto-Submitted` other than `no`), to many
    /// (`Precedence: bulk|list|junk`, `List-Id`), by a mail system (MAILER-DAEMON,
    /// postmaster), or employees have written [`LOOP_LIMIT`] messages in a row in its
    /// thread.
    pub fn no_automatic_reply(&self) -> Option<String> {
        let header = |name: &str| {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        if let Some(v) = header("Auto-Submitted")
            && !v.eq_ignore_ascii_case("no")
            && !v.to_ascii_lowercase().starts_with("no;")
        {
            return Some(format!("it was sent automatically (Auto-Submitted: {v})"));
        }
        if let Some(v) = header("Precedence")
            && ["bulk", "list", "junk"].contains(&v.to_ascii_lowercase().as_str())
        {
            return Some(format!("it was sent to many (Precedence: {v})"));
        }
        if let Some(v) = header("List-Id") {
            return Some(format!("it came from a mailing list (List-Id: {v})"));
        }
        let local = bare_address(&self.from)
            .rsplit_once('@')
            .map_or(bare_address(&self.from), |(l, _)| l);
        if local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster") {
            return Some(format!(
                "it came from a mail system ({})",
                bare_address(&self.from)
            ));
        }
        if self.loop_count() >= LOOP_LIMIT {
            return Some(format!(
                "employees have written {} messages in a row in its thread ({LOOP_HEADER})",
                self.loop_count()
            ));
        }
        None
    }

    /// Messages in a row employees have written in this thread, counting this one (its
    /// [`LOOP_HEADER`]; 0 when a human wrote it).
    pub fn loop_count(&self) -> u32 {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(LOOP_HEADER))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// An attachment kept beside the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    /// File name as sent (sanitised).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the node stored it; none when it was over the size limit and not kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The document it is, when an employee attached one of its documents
    /// (`GET /api/v1/documents/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

impl MailMessage {
    /// The first message of the thread this one belongs to (itself when it starts one).
    pub fn thread(&self) -> &str {
        self.references
            .first()
            .or(self.in_reply_to.as_ref())
            .unwrap_or(&self.message_id)
    }

    /// The message this one answers: its In-Reply-To, else the last of its References.
    pub fn answers(&self) -> Option<&str> {
        self.in_reply_to
            .as_deref()
            .or(self.references.last().map(String::as_str))
    }

    /// Every recipient address (To and Cc), lowercase, without names.
    pub fn recipients(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in split_addresses(&self.to).chain(split_addresses(&self.cc)) {
            let a = bare_address(a).to_ascii_lowercase();
            if !a.is_empty() && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// A message submitted by a human through the API or CLI (built-in driver).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutgoingMail {
    /// Sender: `Name <address>` or an address.
    pub from: String,
    /// Recipients: one address, or several separated by commas.
    pub to: String,
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// Plain-text body.
    #[serde(default)]
    pub body: String,
    /// The Message-ID this answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
}

impl OutgoingMail {
    /// Every problem, naming the field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !is_address(bare_address(&self.from)) {
            e.push(FieldError::new(
                "from",
                format!(
                    "must be an address such as `alex@example.com` or `Alex Morgan <alex@example.com>`, got {:?}",
                    self.from
                ),
            ));
        }
        let to: Vec<&str> = split_addresses(&self.to).collect();
        if to.is_empty() {
            e.push(FieldError::new("to", "must name at least one address"));
        }
        for a in to {
            if !is_address(bare_address(a)) {
                e.push(FieldError::new(
                    "to",
                    format!("{a:?} is not an address such as `riley.quinn@example.com`"),
                ));
            }
        }
        if self.subject.len() > MAX_SUBJECT || self.subject.contains(['\r', '\n']) {
            e.push(FieldError::new(
                "subject",
                format!("must be one line of at most {MAX_SUBJECT} bytes"),
            ));
        }
        if self.body.len() > MAX_BODY {
            e.push(FieldError::new(
                "body",
                format!(
                    "is {} bytes; at most {MAX_BODY} are accepted",
                    self.body.len()
                ),
            ));
        }
        if let Some(r) = &self.in_reply_to
            && (r.is_empty() || r.len() > 998 || r.contains(char::is_whitespace))
        {
            e.push(FieldError::new(
                "in_reply_to",
                "must be the Message-ID of the message answered, e.g. `abc123@example.com`",
            ));
        }
        e
    }
}

/// The parts of a comma-separated address list (commas inside quotes or angle
/// brackets do not split).
pub fn split_addresses(list: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut angle) = (0, false, false);
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty())
}

/// How a record of one person is found: by their address, lowercase, when `person`
/// holds one (`Name <address>` too), else by their name, lowercase (`true` for an
/// address).
pub fn person_key(person: &str) -> (bool, String) {
    let address = bare_address(person).to_lowercase();
    if is_address(&address) {
        (true, address)
    } else {
        (false, person.trim().to_lowercase())
    }
}

/// The address of `Name <address>` (or the whole text when it has no brackets).
pub fn bare_address(s: &str) -> &str {
    let s = s.trim();
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].trim(),
        _ => s,
    }
}

/// The display name of `Name <address>`, if any.
pub fn display_name(s: &str) -> Option<&str> {
    let s = s.trim();
    let i = s.rfind('<')?;
    let name = s[..i].trim().trim_matches('"').trim();
    (!name.is_empty()).then_some(name)
}

/// Whether `a` looks like a mail address: `local@domain.tld`, no spaces.
pub fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | '"'))
}

/// A Message-ID without angle brackets or surrounding space.
pub fn clean_message_id(id: &str) -> &str {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists_split_outside_quotes_and_brackets() {
        let list = r#""Chen, Sarah" <sarah@acme.com>, bob@acme.com; Alex <alex@x.io>"#;
        let parts: Vec<_> = split_addresses(list).collect();
        assert_eq!(
            parts,
            [
                r#""Chen, Sarah" <sarah@acme.com>"#,
                "bob@acme.com",
                "Alex <alex@x.io>"
            ]
        );
        assert_eq!(bare_address(parts[0]), "sarah@acme.com");
        assert_eq!(display_name(parts[0]), Some("Chen, Sarah"));
        assert_eq!(display_name("bob@acme.com"), None);
    }

    #[test]
    fn outgoing_mail_names_each_bad_field() {
        let m = OutgoingMail {
            from: "not an address".into(),
            to: "riley@example.com, nobody".into(),
            subject: "two\nlines".into(),
            body: String::new(),
            in_reply_to: Some("has space".into()),
        };
        let fields: Vec<_> = m.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["from", "to", "subject", "in_reply_to"]);
    }

    #[test]
    fn thread_is_the_first_reference() {
        let mut m = MailMessage {
            message_id: "c@x".into(),
            from: "a@x.io".into(),
            to: "B <b@x.io>, c@x.io".into(),
            cc: "b@x.io".into(),
            subject: String::new(),
            body: String::new(),
            in_reply_to: Some("b@x".into()),
            references: vec!["a@x".into(), "b@x".into()],
            attachments: vec![],
            headers: Default::default(),
            at: Utc::now(),
        };
        assert_eq!(m.thread(), "a@x");
        assert_eq!(m.recipients(), ["b@x.io", "c@x.io"]);
        m.references.clear();
        assert_eq!(m.thread(), "b@x");
    }
}
