//! The handoff of a won account from the employee who sold it to the one who will look
//! after it (seed 7.2): everything the receiver needs to pick the customer up without
//! asking — the account, its stakeholders, the deal's history, the commitments the
//! seller made in writing with the dates promised, and the next steps. The seller's
//! commitments are read from its own sent mail to the account's people, as promises
//! are read from a meeting's transcript ("I'll send the SSO guide by Friday").

use super::{Account, Books, Contact, CrmError, Deal};
use crate::capabilities::meetings::extract::{Attendee, Context, extract};
use crate::model::{EmployeeId, MailMessage, bare_address};
use crate::store::{ActivityFilter, Folder, Page};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;

/// Sent messages read for commitments, newest first.
const MAIL_READ: i64 = 200;
/// Activities listed in the history, newest first.
const HISTORY: usize = 20;

impl Books<'_> {
    /// The handoff brief of won `deal` at `account`, sold by employee `seller` (whose
    /// written commitments it lists) or by someone else.
    pub(super) async fn handoff_brief(
        &self,
        deal: &Deal,
        account: &Account,
        seller: Option<EmployeeId>,
    ) -> Result<Json, CrmError> {
        let people = self
            .driver()
            .contacts(Some(&account.id), Page::default())
            .await?;
        let mut history = Vec::new();
        let mut seen = BTreeSet::new();
        let mut tasks = Vec::new();
        for f in [
            ActivityFilter {
                deal: Some(deal.id.clone()),
                ..Default::default()
            },
            ActivityFilter {
                account: Some(account.id.clone()),
                ..Default::default()
            },
        ] {
            for a in self.driver().activities(&f, Page::default()).await? {
                if !seen.insert(a.id.clone()) {
                    continue;
                }
                if a.kind == "task" {
                    tasks.push(a.subject.clone());
                }
                history.push(a);
            }
        }
        history.sort_by_key(|a| std::cmp::Reverse(a.at));
        let touches = history.len();
        let first = history.last().map(|a| a.at.date_naive());
        history.truncate(HISTORY);
        let me = match seller {
            Some(s) => self.hands.sender(s).await?,
            None => None,
        };
        let commitments = match me {
            Some((me, _)) => {
                let sent = self
                    .hands
                    .store
                    .mail_folder(&self.hands.tenant, &me.email, Folder::Sent, MAIL_READ)
                    .await?;
                commitments(&me.name, &me.email, &people, &sent)
            }
            None => Vec::new(),
        };
        let today = chrono::Utc::now().date_naive();
        let mut next: Vec<String> = deal.next_step.iter().cloned().collect();
        next.extend(tasks);
        next.extend(commitments.iter().filter_map(|c| {
            let due = c["due"].as_str()?;
            (due >= today.to_string().as_str())
                .then(|| format!("{} (promised by {due})", c["text"].as_str().unwrap_or("")))
        }));
        let stakeholders: Vec<Json> = people
            .iter()
            .map(|c| json!({"name": c.name, "email": c.email, "title": c.title, "role": c.role}))
            .collect();
        let won = deal.closed_at.map(|t| t.date_naive().to_string());
        let summary = summary(deal, account, &people, &commitments, &next, touches, first);
        Ok(json!({
            "account": {"id": account.id, "name": account.name, "domain": account.domain,
                        "industry": account.industry, "plan": account.plan},
            "deal": {"id": deal.id, "name": deal.name, "amount": deal.amount, "won": won,
                     "next_step": deal.next_step},
            "stakeholders": stakeholders,
            "history": history.iter().map(|a| json!({
                "at": a.at.to_rfc3339(), "kind": a.kind, "subject": a.subject,
            })).collect::<Vec<_>>(),
            "touches": touches,
            "commitments": commitments,
            "next_steps": next,
            "summary": summary,
        }))
    }
}

/// The promises `name` (`address`) made in writing to any of `people`: each with the
/// date promised when one was said, and the message it was made in.
fn commitments(name: &str, address: &str, people: &[Contact], sent: &[MailMessage]) -> Vec<Json> {
    let theirs: BTreeSet<String> = people.iter().map(|c| c.email.to_lowercase()).collect();
    let me = Attendee {
        name: Some(name.to_string()),
        address: address.to_lowercase(),
        handle: None,
    };
    let attendees: Vec<Attendee> = people
        .iter()
        .map(|c| Attendee::parse(&format!("{} <{}>", c.name, c.email)))
        .collect();
    let mut out = Vec::new();
    let mut said = BTreeSet::new();
    // Oldest first, so a promise repeated later is listed where it was first made.
    for m in sent.iter().rev() {
        let to: Vec<String> =
            m.to.split(',')
                .chain(m.cc.split(','))
                .map(|a| bare_address(a.trim()).to_lowercase())
                .collect();
        if !to.iter().any(|a| theirs.contains(a)) {
            continue;
        }
        let ctx = Context {
            attendees: attendees.clone(),
            me: me.clone(),
            day: m.at.date_naive(),
        };
        let Ok(notes) = extract(&as_turns(name, &m.body), &ctx) else {
            continue;
        };
        for item in notes.action_items.into_iter().filter(|i| i.mine) {
            // The date is kept apart: "Send the SSO guide", due 2027-01-15.
            let text = match &item.due_said {
                Some(d) => without(&item.text, d),
                None => item.text.clone(),
            };
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let text = text.trim_end_matches([',', ';', '.']).to_string();
            if said.insert(text.to_lowercase()) {
                out.push(json!({
                    "text": text,
                    "due": item.due.map(|d| d.to_string()),
                    "due_said": item.due_said,
                    "made": m.at.to_rfc3339(),
                    "in": m.subject,
                }));
            }
        }
    }
    out
}

/// `text` without the words `said` (as the due-date reader gives them: lowercase).
fn without(text: &str, said: &str) -> String {
    match text.to_lowercase().find(said) {
        // Lowercasing keeps the byte length of the ASCII words a date is said in.
        Some(at) if text.is_char_boundary(at) && text.is_char_boundary(at + said.len()) => {
            format!("{} {}", &text[..at], &text[at + said.len()..])
        }
        _ => text.to_string(),
    }
}

/// A message's own words (not what it quotes, not its signature) as `name`'s turns.
fn as_turns(name: &str, body: &str) -> String {
    let mut out = String::new();
    for line in body.lines() {
        let l = line.trim();
        if l == "--" || (l.starts_with("On ") && l.ends_with("wrote:")) {
            break;
        }
        if l.is_empty() || l.starts_with('>') {
            continue;
        }
        out.push_str(&format!("{name}: {l}\n"));
    }
    out
}

/// The brief in words, for the receiver to read.
fn summary(
    deal: &Deal,
    account: &Account,
    people: &[Contact],
    commitments: &[Json],
    next: &[String],
    touches: usize,
    first: Option<chrono::NaiveDate>,
) -> String {
    let mut s = format!(
        "Handing {} over to you: {} was won ({:.0}).",
        account.name, deal.name, deal.amount
    );
    if !people.is_empty() {
        let who: Vec<String> = people
            .iter()
            .map(|c| match &c.title {
                Some(t) => format!("{} ({t}) <{}>", c.name, c.email),
                None => format!("{} <{}>", c.name, c.email),
            })
            .collect();
        s.push_str(&format!("\nStakeholders: {}.", who.join(", ")));
    }
    if let Some(f) = first {
        s.push_str(&format!("\nHistory: {touches} touches since {f}."));
    }
    if commitments.is_empty() {
        s.push_str("\nCommitments: none made in writing.");
    } else {
        s.push_str("\nCommitments I made:");
        for c in commitments {
            let due = c["due"]
                .as_str()
                .map(|d| format!(" (by {d})"))
                .unwrap_or_default();
            s.push_str(&format!("\n- {}{due}", c["text"].as_str().unwrap_or("")));
        }
    }
    if !next.is_empty() {
        s.push_str("\nNext steps:");
        for n in next {
            s.push_str(&format!("\n- {n}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn contact(name: &str, email: &str) -> Contact {
        let now = chrono::Utc::now();
        Contact {
            id: email.into(),
            name: name.into(),
            email: email.into(),
            title: None,
            account: Some("acc".into()),
            role: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn mail(to: &str, body: &str) -> MailMessage {
        MailMessage {
            message_id: format!("<{}@x>", body.len()),
            from: "Jordan Lee <jordan.lee@example.com>".into(),
            to: to.into(),
            cc: String::new(),
            subject: "Next steps".into(),
            body: body.into(),
            in_reply_to: None,
            references: Vec::new(),
            attachments: Vec::new(),
            headers: Default::default(),
            // A Wednesday.
            at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 18, 10, 0, 0)
                .unwrap(),
        }
    }

    #[test]
    fn the_promises_the_seller_wrote_to_the_customer_are_its_commitments() {
        let people = [contact("Dana Whit", "dana@pinecrest.example")];
        let sent = [
            mail(
                "Dana Whit <dana@pinecrest.example>",
                "Hi Dana,\n\nGreat news. I'll send the SSO setup guide by Friday. \
                 I will arrange admin training for your team next week.\n\nBest,\nJordan\n\n\
                 > I will not be quoted\n",
            ),
            // To someone else: not this account's commitment.
            mail(
                "ops@globex.example",
                "I'll send the Globex invoice by Friday.",
            ),
        ];
        let got = commitments("Jordan Lee", "jordan.lee@example.com", &people, &sent);
        let texts: Vec<&str> = got.iter().filter_map(|c| c["text"].as_str()).collect();
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(texts[0], "Send the SSO setup guide", "{texts:?}");
        assert_eq!(got[0]["due"], "2026-11-20", "Friday after the mail");
        assert!(texts[1].contains("admin training"), "{texts:?}");
        assert!(
            !texts
                .iter()
                .any(|t| t.contains("Globex") || t.contains("quoted"))
        );
    }
}
