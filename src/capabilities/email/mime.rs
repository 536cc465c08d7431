//! Inbound mail as the node keeps it: the raw bytes of a message fetched from IMAP,
//! parsed with mail-parser into a [`MailMessage`] — headers decoded from any charset,
//! the text body (the HTML one turned into text when there is no text part), the thread
//! from In-Reply-To and References, and attachments kept as files up to a size limit.
//!
//! Parsing never refuses a message: what cannot be read is said in the message, and a
//! message whose structure is damaged keeps its original bytes as `original.eml`, so
//! nothing that arrived is lost. A message with no Message-ID gets one derived from
//! its bytes, so reading it twice still finds it once.

use crate::model::{Attachment, MailMessage, clean_message_id};
use chrono::{DateTime, Utc};
use mail_parser::{Message, MessageParser, MimeHeaders};
use std::path::{Path, PathBuf};

/// Longest body kept, in bytes; the rest is cut with a note (the message stays whole
/// on the server, and its attachments are kept apart).
pub const MAX_INBOUND_BODY: usize = 1 << 20;

/// A parsed message and the contents of the attachments to keep, in the order of the
/// message's attachments that have no path yet (those within the size limit).
pub struct Inbound {
    /// The message; attachments kept have `path` set once saved.
    pub message: MailMessage,
    /// Contents of the attachments within the limit, aligned with `kept`.
    files: Vec<Vec<u8>>,
    /// Index into `message.attachments` of each entry of `files`.
    kept: Vec<usize>,
}

/// Parses `raw`, received `now`. Attachments over `attachment_max` bytes are recorded
/// without contents.
pub fn parse(raw: &[u8], attachment_max: u64, now: DateTime<Utc>) -> Inbound {
    let fallback_id = || {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, raw);
        format!("{}@no-message-id.invalid", id.simple())
    };
    let fixed = headers_as_utf8(raw);
    let parsed = MessageParser::new().parse(fixed.as_deref().unwrap_or(raw));
    let Some(parsed) = parsed else {
        // Nothing readable at all: keep the bytes for a human to look at.
        let mut inbound = Inbound {
            message: MailMessage {
                message_id: fallback_id(),
                from: String::new(),
                to: String::new(),
                cc: String::new(),
                subject: "(unreadable message)".into(),
                body: "This message could not be read; its original is attached as original.eml."
                    .into(),
                in_reply_to: None,
                references: Vec::new(),
                attachments: Vec::new(),
                headers: Default::default(),
                at: now,
            },
            files: Vec::new(),
            kept: Vec::new(),
        };
        inbound.attach_original(raw, attachment_max);
        return inbound;
    };
    let root = &parsed;
    let damaged = parsed.parts.iter().any(|p| p.is_encoding_problem) || unterminated(raw, root);
    let message_id = root
        .message_id()
        .map(clean_message_id)
        .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace))
        .map(str::to_string)
        .unwrap_or_else(fallback_id);
    let ids = |value: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        value
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|id| clean_message_id(id))
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut references = ids(root.references());
    let in_reply_to = ids(root.in_reply_to()).into_iter().next();
    if references.is_empty()
        && let Some(r) = &in_reply_to
    {
        references.push(r.clone());
    }
    let headers = crate::model::KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let v = root.header_raw(*name)?;
            Some((name.to_string(), one_line(v.trim())))
        })
        .collect();
    let mut message = MailMessage {
        message_id,
        from: addresses(root.from()),
        to: addresses(root.to()),
        cc: addresses(root.cc()),
        subject: one_line(root.subject().unwrap_or("")),
        body: body(root),
        in_reply_to,
        references,
        attachments: Vec::new(),
        headers,
        at: now,
    };
    let mut files = Vec::new();
    let mut kept = Vec::new();
    for (i, part) in root.attachments().enumerate() {
        let size = part.len() as u64;
        let name = part
            .attachment_name()
            .map(safe_file_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        if size <= attachment_max {
            kept.push(message.attachments.len());
            files.push(part.contents().to_vec());
        }
        message.attachments.push(Attachment {
            name,
            content_type,
            size,
            path: None,
            document: None,
        });
    }
    let mut inbound = Inbound {
        message,
        files,
        kept,
    };
    if damaged {
        inbound.attach_original(raw, attachment_max);
    }
    inbound
}

impl Inbound {
    fn attach_original(&mut self, raw: &[u8], attachment_max: u64) {
        let size = raw.len() as u64;
        if size <= attachment_max {
            self.kept.push(self.message.attachments.len());
            self.files.push(raw.to_vec());
        }
        self.message.attachments.push(Attachment {
            name: "original.eml".into(),
            content_type: "message/rfc822".into(),
            size,
            path: None,
            document: None,
        });
    }

    /// Writes the attachments to keep under `dir/<message>/` and answers the message
    /// with their paths. Writing them again (a message read twice) replaces the same
    /// files.
    pub async fn save(self, dir: &Path) -> std::io::Result<MailMessage> {
        let Inbound {
            mut message,
            files,
            kept,
        } = self;
        if files.is_empty() {
            return Ok(message);
        }
        let folder = dir.join(
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, message.message_id.as_bytes())
                .simple()
                .to_string(),
        );
        tokio::fs::create_dir_all(&folder).await?;
        for (bytes, i) in files.into_iter().zip(kept) {
            let a = &mut message.attachments[i];
            let path: PathBuf = folder.join(format!("{}-{}", i + 1, a.name));
            let tmp = path.with_extension("part");
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, &path).await?;
            a.path = Some(path.display().to_string());
        }
        Ok(message)
    }
}

/// An address list as `Name <address>, address`.
fn addresses(list: Option<&mail_parser::Address<'_>>) -> String {
    let Some(list) = list else {
        return String::new();
    };
    list.iter()
        .filter_map(|m| {
            let address = m.address()?.trim();
            Some(match m.name().map(one_line).filter(|n| !n.is_empty()) {
                Some(name) if name.contains([',', '"', '<', '>', ';']) => {
                    format!("\"{}\" <{address}>", name.replace('"', "'"))
                }
                Some(name) => format!("{name} <{address}>"),
                None => address.to_string(),
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text of the message: its first text body, or its HTML body as text, cut at
/// [`MAX_INBOUND_BODY`].
fn body(root: &Message<'_>) -> String {
    let text = root
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let text = text.replace("\r\n", "\n");
    if text.len() <= MAX_INBOUND_BODY {
        return text;
    }
    let cut = text.floor_char_boundary(MAX_INBOUND_BODY);
    format!(
        "{}\n[… {} more bytes not kept]",
        &text[..cut],
        text.len() - cut
    )
}

/// The message with header lines that are not UTF-8 (raw 8-bit bytes, as old clients
/// write them) read as Windows-1252, the charset mail clients assume; None when every
/// header line is UTF-8 already. The body is left as it is: its charset is MIME's.
fn headers_as_utf8(raw: &[u8]) -> Option<Vec<u8>> {
    let mut end = 0;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            break;
        }
        end += line.len();
    }
    let head = &raw[..end];
    if std::str::from_utf8(head).is_ok() {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() + 64);
    for line in head.split_inclusive(|b| *b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(_) => out.extend_from_slice(line),
            Err(_) => {
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(line);
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    out.extend_from_slice(&raw[end..]);
    Some(out)
}

/// Whether a multipart message lacks the close delimiter of its boundary (cut off in
/// transit, or badly written).
fn unterminated(raw: &[u8], root: &Message<'_>) -> bool {
    let Some(boundary) = root
        .content_type()
        .filter(|c| c.ctype().eq_ignore_ascii_case("multipart"))
        .and_then(|c| c.attribute("boundary"))
    else {
        return false;
    };
    let close = format!("--{boundary}--");
    !raw.windows(close.len()).any(|w| w == close.as_bytes())
}

/// Header text on one line.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The longest attachment file name kept, in bytes.
const NAME_BYTES: usize = 200;

/// A file name that stays inside its folder: no separators, no leading dots, no
/// control characters, at most [`NAME_BYTES`] bytes (file systems count a name's bytes:
/// 255 on most, and the saved file adds a number and a temporary extension).
fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    cleaned[..cleaned.floor_char_boundary(NAME_BYTES)].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn headers_in_other_charsets_are_decoded() {
        let mut raw: Vec<u8> = Vec::new();
        raw.extend_from_slice(b"From: =?ISO-8859-1?Q?Ren=E9e_M=FCller?= <renee@acme.com>\r\n");
        raw.extend_from_slice(b"To: riley@example.test\r\n");
        // Raw 8-bit Latin-1 in a header, as some old clients send it.
        raw.extend_from_slice(b"Subject: =?windows-1252?Q?Pr=E8s_de_la_facture?= \xe9t\xe9\r\n");
        raw.extend_from_slice(b"Message-ID: <m1@acme.com>\r\n");
        raw.extend_from_slice(b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n");
        raw.extend_from_slice(b"Caf\xe9 cr\xe8me\r\n");
        let m = parse(&raw, 1 << 20, now()).message;
        assert_eq!(m.from, "Renée Müller <renee@acme.com>");
        assert_eq!(m.subject, "Près de la facture été");
        assert_eq!(m.body.trim(), "Café crème");
        assert_eq!(m.message_id, "m1@acme.com");
    }

    #[test]
    fn the_thread_comes_from_in_reply_to_and_references() {
        let raw = b"From: a@x.io\r\nTo: b@y.io\r\nMessage-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\nSubject: Re: hi\r\n\r\nyes\r\n";
        let m = parse(raw, 1 << 20, now()).message;
        assert_eq!(m.in_reply_to.as_deref(), Some("b@x"));
        assert_eq!(m.references, ["a@x", "b@x"]);
        assert_eq!(m.thread(), "a@x");
    }

    #[test]
    fn html_only_mail_is_read_as_text() {
        let raw = b"From: a@x.io\r\nTo: b@y.io\r\nMessage-ID: <h@x>\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>there</b></p>\r\n";
        let m = parse(raw, 1 << 20, now()).message;
        assert!(m.body.contains("Hello there"), "{:?}", m.body);
    }

    #[test]
    fn damaged_mime_is_read_as_far_as_it_goes_and_its_original_kept() {
        let raw = b"From: a@x.io\r\nTo: b@y.io\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nstill readable\r\n--zz\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x";
        let inbound = parse(raw, 1 << 20, now());
        let m = &inbound.message;
        assert!(m.body.contains("still readable"));
        assert!(m.message_id.ends_with("@no-message-id.invalid"));
        assert_eq!(parse(raw, 1 << 20, now()).message.message_id, m.message_id);
        let original = m
            .attachments
            .iter()
            .find(|a| a.name == "original.eml")
            .unwrap();
        assert_eq!(original.size, raw.len() as u64);
        assert_eq!(inbound.files.last().unwrap(), raw);
    }

    #[test]
    fn attachments_over_the_limit_are_recorded_not_kept() {
        let raw = b"From: a@x.io\r\nTo: b@y.io\r\nMessage-ID: <a@x>\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: text/csv; name=\"../../etc/passwd\"\r\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\na,b,c\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n\r\n0123456789abcdef0123456789\r\n--b--\r\n";
        let inbound = parse(raw, 16, now());
        let a = &inbound.message.attachments;
        assert_eq!(a.len(), 2, "{a:?}");
        assert_eq!(a[0].name, "_.._etc_passwd");
        assert_eq!(a[0].content_type, "text/csv");
        assert_eq!(a[1].name, "big.bin");
        assert!(a[1].size > 16);
        assert_eq!(inbound.kept, [0]);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_become_a_message_found_again_by_its_id(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            headers in "(From|To|Subject|Message-ID|In-Reply-To|Content-Type): [ -~]{0,40}\r\n",
        ) {
            for input in [raw.clone(), [headers.as_bytes(), b"\r\n", &raw].concat()] {
                let a = parse(&input, 512, now());
                let b = parse(&input, 512, now());
                proptest::prop_assert!(!a.message.message_id.is_empty());
                proptest::prop_assert_eq!(&a.message.message_id, &b.message.message_id);
                proptest::prop_assert!(!a.message.subject.contains(['\r', '\n']));
                proptest::prop_assert_eq!(a.files.len(), a.kept.len());
                for (i, f) in a.kept.iter().zip(&a.files) {
                    proptest::prop_assert_eq!(a.message.attachments[*i].size, f.len() as u64);
                }
            }
        }
    }

    #[test]
    fn a_long_file_name_is_cut_by_bytes_on_a_character_boundary() {
        // 150 characters of three bytes each: 450 bytes, past what a file system takes.
        let long = "報".repeat(150) + ".pdf";
        let name = safe_file_name(&long);
        assert!(name.len() <= NAME_BYTES, "{} bytes", name.len());
        assert!(name.starts_with("報報") && name.chars().all(|c| c == '報'));
        assert_eq!(safe_file_name("../q3 report.pdf"), "_q3 report.pdf");
    }

    #[test]
    fn nothing_at_all_still_becomes_a_message() {
        let inbound = parse(b"", 1 << 20, now());
        assert_eq!(inbound.message.subject, "(unreadable message)");
        assert_eq!(inbound.message.attachments[0].name, "original.eml");
    }
}
