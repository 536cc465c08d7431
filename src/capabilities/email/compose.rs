//! What an employee writes, from an action's parameters: `email.send` (`to`, `subject`,
//! `body`, optional `cc`) starts a thread; `email.reply` (`in_reply_to`, `body`,
//! optional `subject`, `reply_all`) answers the sender of a stored message (with
//! `reply_all`, everyone else on it in copy) and keeps the thread's
//! headers (In-Reply-To, References, the subject with `Re:`). A reply to a message the
//! employee sent itself — a follow-up, named by `follows` (the action that sent it) —
//! goes to that message's recipients, in the same thread.

use crate::capabilities::{CapabilityError, Sender, param};
use crate::model::{MailMessage, bare_address, clean_message_id, is_address, split_addresses};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

/// The Message-ID of the message an action sends: the same for every run of the
/// action, so a retried send is recognised.
pub fn message_id_for(action_key: &str, domain: &str) -> String {
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, action_key.as_bytes());
    format!("{}@{domain}", id.simple())
}

/// The message an `email.send` or `email.reply` action sends. `original` is the stored
/// message a reply answers (looked up by the caller from `in_reply_to`).
pub fn compose(
    kind: &str,
    params: &Json,
    sender: &Sender,
    original: Option<&MailMessage>,
    message_id: String,
    now: DateTime<Utc>,
) -> Result<MailMessage, CapabilityError> {
    let body = param(params, "body")
        .ok_or_else(|| CapabilityError::Invalid(format!("`{kind}` needs a `body`")))?
        .to_string();
    let cc = params["cc"].as_str().unwrap_or("").trim().to_string();
    let mut m = MailMessage {
        message_id,
        from: sender.mailbox(),
        to: String::new(),
        cc,
        subject: param(params, "subject").unwrap_or("").to_string(),
        body,
        in_reply_to: None,
        references: Vec::new(),
        attachments: Vec::new(),
        headers: Default::default(),
        at: now,
    };
    match kind {
        "email.reply" => {
            let asked = param(params, "in_reply_to")
                .or(param(params, "follows"))
                .ok_or_else(|| {
                    CapabilityError::Invalid(
                        "`email.reply` needs `in_reply_to` (the Message-ID of the message answered) or `follows` (the action whose message it follows up)"
                            .into(),
                    )
                })?;
            let Some(o) = original else {
                return Err(CapabilityError::Invalid(format!(
                    "the message answered, {}, is not in this node's mail",
                    clean_message_id(asked)
                )));
            };
            if bare_address(&o.from).eq_ignore_ascii_case(&sender.email) {
                // A follow-up of the employee's own message: to the same people.
                m.to = o.to.clone();
                if m.cc.is_empty() {
                    m.cc = o.cc.clone();
                }
            } else {
                // To the sender only; with `reply_all`, everyone else on it in copy.
                m.to = o.from.clone();
                if crate::model::truthy(&params["reply_all"]) {
                    let skip = [bare_address(&o.from), sender.email.as_str()];
                    let mut cc: Vec<&str> = split_addresses(&m.cc).collect();
                    for a in split_addresses(&o.to).chain(split_addresses(&o.cc)) {
                        let bare = bare_address(a);
                        let seen = cc
                            .iter()
                            .any(|c| bare_address(c).eq_ignore_ascii_case(bare));
                        if !seen && !skip.iter().any(|s| s.eq_ignore_ascii_case(bare)) {
                            cc.push(a);
                        }
                    }
                    m.cc = cc.join(", ");
                }
            }
            if m.subject.is_empty() {
                m.subject = reply_subject(&o.subject);
            }
            m.in_reply_to = Some(o.message_id.clone());
            m.references = o.references.clone();
            m.references.push(o.message_id.clone());
        }
        _ => {
            m.to = param(params, "to")
                .ok_or_else(|| CapabilityError::Invalid(
                        "`email.send` needs `to`, an address to write to; the plan gave none (its event named no one)".into(),
                    ))?
                .to_string();
        }
    }
    for a in split_addresses(&m.to).chain(split_addresses(&m.cc)) {
        if !is_address(bare_address(a)) {
            return Err(CapabilityError::Invalid(format!(
                "{a:?} is not a mail address; `to` and `cc` take addresses such as `sarah@acme.com`"
            )));
        }
    }
    if m.recipients().is_empty() {
        return Err(CapabilityError::Invalid(format!(
            "`{kind}` has no recipient"
        )));
    }
    if m.subject.contains(['\r', '\n']) {
        m.subject = m.subject.replace(['\r', '\n'], " ");
    }
    Ok(m)
}

/// `Re: <subject>`, without stacking `Re:`s.
fn reply_subject(subject: &str) -> String {
    let s = subject.trim();
    if s.len() >= 3 && s[..3].eq_ignore_ascii_case("re:") {
        s.to_string()
    } else {
        format!("Re: {s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn riley() -> Sender {
        Sender {
            id: crate::model::EmployeeId::new(),
            name: "Riley Quinn".into(),
            email: "riley.quinn@example.com".into(),
            handle: "riley.quinn".into(),
        }
    }

    fn inbound() -> MailMessage {
        MailMessage {
            message_id: "m2@acme.com".into(),
            from: "Sarah Chen <sarah@acme.com>".into(),
            to: "riley.quinn@example.com".into(),
            cc: String::new(),
            subject: "RE: Pricing".into(),
            body: "How much for 40 seats?".into(),
            in_reply_to: Some("m1@acme.com".into()),
            references: vec!["m1@acme.com".into()],
            attachments: vec![],
            headers: Default::default(),
            at: Utc::now(),
        }
    }

    #[test]
    fn a_reply_keeps_the_thread_headers() {
        let o = inbound();
        let m = compose(
            "email.reply",
            &json!({"in_reply_to": "<m2@acme.com>", "body": "Hi Sarah"}),
            &riley(),
            Some(&o),
            message_id_for("e:1", "example.com"),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(m.to, "Sarah Chen <sarah@acme.com>");
        assert_eq!(m.subject, "RE: Pricing");
        assert_eq!(m.in_reply_to.as_deref(), Some("m2@acme.com"));
        assert_eq!(m.references, ["m1@acme.com", "m2@acme.com"]);
        assert_eq!(m.from, "Riley Quinn <riley.quinn@example.com>");
        assert_eq!(m.message_id, message_id_for("e:1", "example.com"));
        assert_ne!(m.message_id, message_id_for("e:2", "example.com"));
    }

    #[test]
    fn a_follow_up_of_its_own_message_goes_to_the_same_people_in_thread() {
        let first = MailMessage {
            message_id: "f1@example.com".into(),
            from: riley().mailbox(),
            to: "Sarah Chen <sarah@acme.com>".into(),
            cc: "ops@acme.com".into(),
            subject: "Your trial".into(),
            body: "How is it going?".into(),
            in_reply_to: None,
            references: vec![],
            attachments: vec![],
            headers: Default::default(),
            at: Utc::now(),
        };
        let m = compose(
            "email.reply",
            &json!({"follows": "7", "body": "Just checking in"}),
            &riley(),
            Some(&first),
            "f2@example.com".into(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(m.to, "Sarah Chen <sarah@acme.com>");
        assert_eq!(m.cc, "ops@acme.com");
        assert_eq!(m.subject, "Re: Your trial");
        assert_eq!(m.in_reply_to.as_deref(), Some("f1@example.com"));
        assert_eq!(m.references, ["f1@example.com"]);
    }

    #[test]
    fn bad_parameters_are_named() {
        let err = |kind, p: Json, o: Option<&MailMessage>| {
            compose(kind, &p, &riley(), o, "x@y".into(), Utc::now())
                .unwrap_err()
                .to_string()
        };
        assert!(err("email.send", json!({"to": "sarah@acme.com"}), None).contains("`body`"));
        assert!(err("email.send", json!({"body": "hi"}), None).contains("`to`"));
        assert!(
            err("email.send", json!({"to": "accounts", "body": "hi"}), None)
                .contains("not a mail address")
        );
        assert!(err("email.reply", json!({"body": "hi"}), None).contains("in_reply_to"));
        assert!(err("email.reply", json!({"body": "hi"}), None).contains("follows"));
        assert!(
            err(
                "email.reply",
                json!({"in_reply_to": "<z@q>", "body": "hi"}),
                None
            )
            .contains("z@q, is not in this node's mail")
        );
        let m = compose(
            "email.send",
            &json!({"to": "a@b.co", "subject": "x\r\ny", "body": "hi"}),
            &riley(),
            None,
            "x@y".into(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(m.subject, "x  y");
        assert_eq!(reply_subject("Pricing"), "Re: Pricing");
    }
}
