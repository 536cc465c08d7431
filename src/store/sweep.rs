//! Sweeping the records the node keeps of one person (`empla forget`): the mail from or
//! to them (with the attachments kept beside it), chat messages they wrote or that were
//! written to them, the tasks they asked for, outbox actions and approvals for them (a
//! pending one is cancelled: it never runs), escalations of their mail, their copies of
//! meetings and the times offered to them, CRM activities copying their mail, and
//! events waiting for an employee that name them. A record of someone else's that only
//! mentions them is kept, each mention replaced by [`crate::model::REDACTED`].
//!
//! Each table is read for candidates with `lower(text) LIKE pattern` (the same SQL on
//! SQLite and PostgreSQL, a superset of what mentions them), each candidate is judged
//! here with [`Forgetting`], and deleted or redacted by its key in the same
//! transaction. What employees remember (episodes, facts, knowledge) is
//! [`crate::memory`]'s to forget; their state snapshots are the node's.

use super::{Store, StoreError, with_pool};
use crate::model::{Attachment, EmployeeId, Forgetting, TenantId};
use serde_json::Value as Json;
use sqlx::{AssertSqlSafe, Row as _};
use std::collections::{BTreeMap, BTreeSet};

/// What sweeping one person's records removed: rows deleted per kind, rows of others
/// redacted, and what the caller still has to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Swept {
    /// Mail messages from or to them (every mailbox's copy).
    pub mail: u64,
    /// Chat messages they wrote or that were written to them.
    pub chat: u64,
    /// Tasks they asked for.
    pub tasks: u64,
    /// Outbox actions for them or about their mail and tasks.
    pub outbox: u64,
    /// Approvals of such actions (pending ones are cancelled).
    pub approvals: u64,
    /// Escalations of their mail or naming them as a party.
    pub escalations: u64,
    /// Their copies of meetings, meetings they organised, times offered to them.
    pub calendar: u64,
    /// CRM activities copying their mail.
    pub crm_activities: u64,
    /// Inbox events naming them (waiting, set aside or handled).
    pub events: u64,
    /// Records of others kept with the mentions of them redacted.
    pub redacted: u64,
    /// The files the deleted mail kept as attachments (paths as stored), to delete.
    pub attachment_files: Vec<String>,
    /// Per employee, the actions whose pending approval or outbox row was deleted.
    pub cancelled: BTreeMap<EmployeeId, BTreeSet<u64>>,
}

/// How one table is swept.
struct Table {
    name: &'static str,
    /// The key after `tenant`: each column, and whether it is an integer.
    key: &'static [(&'static str, bool)],
    /// The text columns read for judging.
    read: &'static [&'static str],
    /// Those of them matched against the patterns.
    searched: &'static [&'static str],
    /// Rows that are candidates whatever they hold, as SQL (e.g. pending approvals).
    also: Option<&'static str>,
    /// Run before a row is deleted, with the delete's parameters.
    cascade: &'static [&'static str],
}

const MAIL: Table = Table {
    name: "mail",
    key: &[("seq", true)],
    read: &[
        "message_id",
        "sender",
        "recipients",
        "cc",
        "subject",
        "body",
        "attachments",
    ],
    searched: &["sender", "recipients", "cc", "subject", "body"],
    also: None,
    // Every mailbox's copy, and an assistant's triage of it, go with the message.
    cascade: &[
        "DELETE FROM mailbox WHERE tenant = $1 AND mail_seq = $2",
        "DELETE FROM triaged_mail WHERE tenant = $1 AND message_id = \
         (SELECT message_id FROM mail WHERE tenant = $1 AND seq = $2)",
    ],
};
const TASKS: Table = Table {
    name: "tasks",
    key: &[("id", false)],
    read: &["requester", "description", "result"],
    searched: &["requester", "description", "result"],
    also: None,
    cascade: &[],
};
const CHAT: Table = Table {
    name: "chat_messages",
    key: &[("seq", true)],
    read: &["sender", "conversation", "text"],
    searched: &["sender", "conversation", "text"],
    also: None,
    cascade: &[],
};
const OUTBOX: Table = Table {
    name: "outbox",
    key: &[("id", false)],
    read: &["employee_id", "status", "params", "result"],
    searched: &["params", "result"],
    also: Some("status = 'pending'"),
    cascade: &[],
};
const APPROVALS: Table = Table {
    name: "approvals",
    key: &[("id", false)],
    read: &[
        "employee_id",
        "status",
        "action",
        "reason",
        "decision_reason",
    ],
    searched: &["action", "reason", "decision_reason"],
    also: Some("status = 'pending'"),
    cascade: &[],
};
const ESCALATIONS: Table = Table {
    name: "escalations",
    key: &[("id", false)],
    read: &["mail_id", "message", "recommendation", "context", "reason"],
    searched: &["mail_id", "message", "recommendation", "context", "reason"],
    also: None,
    cascade: &[],
};
const CALENDAR: Table = Table {
    name: "calendar_events",
    key: &[("owner", false), ("uid", false)],
    read: &["owner", "organizer", "attendees", "title", "description"],
    searched: &["owner", "organizer", "attendees", "title", "description"],
    also: None,
    cascade: &[],
};
const PROPOSALS: Table = Table {
    name: "calendar_proposals",
    key: &[("message_id", false)],
    read: &["message_id", "attendees", "title"],
    searched: &["message_id", "attendees", "title"],
    also: None,
    cascade: &[],
};
const ACTIVITIES: Table = Table {
    name: "crm_activities",
    key: &[("id", false)],
    read: &["key", "subject", "body"],
    searched: &["key", "subject", "body"],
    also: None,
    cascade: &[],
};
const EVENTS: Table = Table {
    name: "inbox",
    key: &[("seq", true)],
    read: &["payload"],
    searched: &["payload"],
    also: None,
    cascade: &[],
};

/// A row's key value.
enum Key {
    Int(i64),
    Text(String),
}

/// A candidate row: its key and the columns read.
struct Row {
    key: Vec<Key>,
    cols: Vec<Option<String>>,
    names: &'static [&'static str],
}

impl Row {
    fn get(&self, col: &str) -> &str {
        self.names
            .iter()
            .position(|c| *c == col)
            .and_then(|i| self.cols[i].as_deref())
            .unwrap_or("")
    }

    fn json(&self, col: &str) -> Json {
        serde_json::from_str(self.get(col)).unwrap_or(Json::Null)
    }

    fn text_key(&self) -> &str {
        match self.key.first() {
            Some(Key::Text(s)) => s,
            _ => "",
        }
    }
}

/// What becomes of a candidate.
enum Verdict {
    Keep,
    Delete,
    /// Kept with these columns set (at least one).
    Redact(Vec<(&'static str, String)>),
}

impl Verdict {
    fn redacted(changes: Vec<(&'static str, String)>) -> Verdict {
        if changes.is_empty() {
            Verdict::Keep
        } else {
            Verdict::Redact(changes)
        }
    }
}

/// The text columns of `row` that mention the person, redacted.
fn redact_text(who: &Forgetting, row: &Row, cols: &[&'static str]) -> Vec<(&'static str, String)> {
    cols.iter()
        .filter_map(|c| Some((*c, who.person.redact(row.get(c))?)))
        .collect()
}

/// The JSON columns of `row` that mention the person, redacted.
fn redact_json(who: &Forgetting, row: &Row, cols: &[&'static str]) -> Vec<(&'static str, String)> {
    cols.iter()
        .filter_map(|c| {
            let mut v = row.json(c);
            who.person.redact_json(&mut v).then(|| (*c, v.to_string()))
        })
        .collect()
}

/// The statements that carry out `verdict` on a row of `t`, found by `by_key`, and
/// the values they set; none to keep it. Each is bound to the tenant, the row's key,
/// then the values.
fn statements(t: &Table, by_key: &str, verdict: Verdict) -> Option<(Vec<String>, Vec<String>)> {
    let n = t.key.len();
    match verdict {
        Verdict::Keep => None,
        Verdict::Delete => {
            let delete = format!("DELETE FROM {} WHERE tenant = $1 AND {by_key}", t.name);
            let all = t.cascade.iter().map(|s| s.to_string()).chain([delete]);
            Some((all.collect(), Vec::new()))
        }
        Verdict::Redact(changes) => {
            let sets = changes
                .iter()
                .enumerate()
                .map(|(i, (c, _))| format!("{c} = ${}", n + 2 + i))
                .collect::<Vec<_>>()
                .join(", ");
            let update = format!(
                "UPDATE {} SET {sets} WHERE tenant = $1 AND {by_key}",
                t.name
            );
            Some((vec![update], changes.into_iter().map(|(_, v)| v).collect()))
        }
    }
}

/// Whether an action's parameters follow up (`follows`) a message of theirs: the
/// employee's own earlier action, whose Message-ID derives from its outbox key.
fn follows_theirs(who: &Forgetting, employee: &str, params: &Json) -> bool {
    let follows = match &params["follows"] {
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) => n.to_string(),
        _ => return false,
    };
    // The outbox key, as `OutboxEntry::key_for` writes it.
    let key = format!("{employee}:{follows}");
    let local = crate::capabilities::email::message_id_for(&key, "");
    who.messages.iter().any(|m| m.starts_with(&local))
}

fn judge_mail(who: &Forgetting, r: &Row) -> Verdict {
    let p = &who.person;
    if ["sender", "recipients", "cc"]
        .iter()
        .any(|c| p.mentions(r.get(c)))
    {
        return Verdict::Delete;
    }
    Verdict::redacted(redact_text(who, r, &["subject", "body"]))
}

fn judge_task(who: &Forgetting, r: &Row) -> Verdict {
    if who.person.mentions(r.get("requester")) {
        return Verdict::Delete;
    }
    Verdict::redacted(redact_text(who, r, &["description", "result"]))
}

fn judge_chat(who: &Forgetting, r: &Row) -> Verdict {
    let p = &who.person;
    if p.mentions(r.get("sender")) || p.mentions(r.get("conversation")) {
        return Verdict::Delete;
    }
    Verdict::redacted(redact_text(who, r, &["text"]))
}

fn judge_outbox(who: &Forgetting, r: &Row) -> Verdict {
    let params = r.json("params");
    if who.owns(&params)
        || who.owns(&r.json("result"))
        || follows_theirs(who, r.get("employee_id"), &params)
    {
        return Verdict::Delete;
    }
    Verdict::redacted(redact_json(who, r, &["params", "result"]))
}

fn judge_approval(who: &Forgetting, r: &Row) -> Verdict {
    let action = r.json("action");
    if who.owns(&action) || follows_theirs(who, r.get("employee_id"), &action["params"]) {
        return Verdict::Delete;
    }
    let mut changes = redact_json(who, r, &["action"]);
    changes.extend(redact_text(who, r, &["reason", "decision_reason"]));
    Verdict::redacted(changes)
}

fn judge_escalation(who: &Forgetting, r: &Row) -> Verdict {
    if who.is_their_message(r.get("mail_id")) || who.owns(&r.json("context")) {
        return Verdict::Delete;
    }
    let mut changes = redact_text(who, r, &["message", "recommendation", "reason"]);
    changes.extend(redact_json(who, r, &["context"]));
    Verdict::redacted(changes)
}

fn judge_calendar(who: &Forgetting, r: &Row) -> Verdict {
    let p = &who.person;
    if p.mentions(r.get("owner")) || p.mentions(r.get("organizer")) {
        return Verdict::Delete;
    }
    let mut changes = redact_text(who, r, &["title", "description"]);
    if let Json::Array(attendees) = r.json("attendees")
        && attendees.iter().any(|a| p.mentioned_in(a))
    {
        let kept: Vec<Json> = attendees
            .into_iter()
            .filter(|a| !p.mentioned_in(a))
            .collect();
        changes.push(("attendees", Json::Array(kept).to_string()));
    }
    Verdict::redacted(changes)
}

fn judge_proposal(who: &Forgetting, r: &Row) -> Verdict {
    if who.is_their_message(r.get("message_id")) || who.person.mentioned_in(&r.json("attendees")) {
        return Verdict::Delete;
    }
    Verdict::redacted(redact_text(who, r, &["title"]))
}

fn judge_activity(who: &Forgetting, r: &Row) -> Verdict {
    // Keyed `mail:<kind>:<employee>:<contact>:<Message-ID>` when it copies a mail.
    let copies = r
        .get("key")
        .strip_prefix("mail:")
        .and_then(|k| k.splitn(4, ':').nth(3))
        .is_some_and(|id| who.is_their_message(id));
    if copies {
        return Verdict::Delete;
    }
    Verdict::redacted(redact_text(who, r, &["subject", "body"]))
}

fn judge_event(who: &Forgetting, r: &Row) -> Verdict {
    let payload = r.json("payload");
    if who.person.mentioned_in(&payload) || who.owns(&payload) {
        Verdict::Delete
    } else {
        Verdict::Keep
    }
}

impl Store {
    /// Sweeps the tenant's records of `who` (see the module). Fills in `who`'s mail and
    /// tasks as they are found, so the records referring to them go too.
    pub async fn sweep_person(
        &self,
        tenant: &TenantId,
        who: &mut Forgetting,
    ) -> Result<Swept, StoreError> {
        let mut s = Swept::default();
        let r = &mut s.redacted;
        let person = who.person.like_patterns();
        let mail = self
            .sweep(tenant, &MAIL, &person, who, judge_mail, r)
            .await?;
        for row in &mail {
            who.messages.insert(row.get("message_id").to_string());
            let kept: Vec<Attachment> =
                serde_json::from_str(row.get("attachments")).unwrap_or_default();
            s.attachment_files.extend(
                kept.into_iter()
                    .filter(|a| a.document.is_none())
                    .filter_map(|a| a.path),
            );
        }
        let tasks = self
            .sweep(tenant, &TASKS, &person, who, judge_task, r)
            .await?;
        who.tasks
            .extend(tasks.iter().map(|row| row.text_key().to_string()));
        // Records referring to their mail or tasks hold those ids.
        let mut refs = person.clone();
        refs.extend(
            who.messages
                .iter()
                .chain(&who.tasks)
                .map(|id| format!("%{}%", id.to_lowercase())),
        );
        let who = &*who;
        let chat = self
            .sweep(tenant, &CHAT, &person, who, judge_chat, r)
            .await?;
        let outbox = self
            .sweep(tenant, &OUTBOX, &refs, who, judge_outbox, r)
            .await?;
        for row in outbox.iter().filter(|row| row.get("status") == "pending") {
            // The key is `<employee>:<action>`.
            let action = row
                .text_key()
                .rsplit(':')
                .next()
                .and_then(|a| a.parse().ok());
            if let (Ok(e), Some(a)) = (row.get("employee_id").parse(), action) {
                s.cancelled.entry(e).or_default().insert(a);
            }
        }
        let approvals = self
            .sweep(tenant, &APPROVALS, &refs, who, judge_approval, r)
            .await?;
        for row in approvals
            .iter()
            .filter(|row| row.get("status") == "pending")
        {
            let action = row.json("action")["id"].as_u64();
            if let (Ok(e), Some(a)) = (row.get("employee_id").parse(), action) {
                s.cancelled.entry(e).or_default().insert(a);
            }
        }
        let escalations = self
            .sweep(tenant, &ESCALATIONS, &refs, who, judge_escalation, r)
            .await?;
        let calendar = self
            .sweep(tenant, &CALENDAR, &person, who, judge_calendar, r)
            .await?;
        let proposals = self
            .sweep(tenant, &PROPOSALS, &refs, who, judge_proposal, r)
            .await?;
        let activities = self
            .sweep(tenant, &ACTIVITIES, &refs, who, judge_activity, r)
            .await?;
        let events = self
            .sweep(tenant, &EVENTS, &refs, who, judge_event, r)
            .await?;
        let n = |rows: Vec<Row>| rows.len() as u64;
        s.mail = n(mail);
        s.tasks = n(tasks);
        s.chat = n(chat);
        s.outbox = n(outbox);
        s.approvals = n(approvals);
        s.escalations = n(escalations);
        s.calendar = n(calendar) + n(proposals);
        s.crm_activities = n(activities);
        s.events = n(events);
        Ok(s)
    }

    /// [`Store::sweep_table`] with a judge of `who`'s, counting the rows redacted into
    /// `redacted`; answers the rows deleted.
    async fn sweep(
        &self,
        tenant: &TenantId,
        t: &Table,
        patterns: &[String],
        who: &Forgetting,
        judge: fn(&Forgetting, &Row) -> Verdict,
        redacted: &mut u64,
    ) -> Result<Vec<Row>, StoreError> {
        let (deleted, n) = self
            .sweep_table(tenant, t, patterns, |r| judge(who, r))
            .await?;
        *redacted += n;
        Ok(deleted)
    }

    /// Reads `t`'s candidates (a searched column matches one of `patterns`, or `also`
    /// holds), deletes or redacts each as `judge` says, in one transaction. Answers the
    /// rows deleted and how many were redacted.
    async fn sweep_table(
        &self,
        tenant: &TenantId,
        t: &Table,
        patterns: &[String],
        judge: impl Fn(&Row) -> Verdict + Send + Sync,
    ) -> Result<(Vec<Row>, u64), StoreError> {
        let text = t
            .searched
            .iter()
            .map(|c| format!("COALESCE({c}, '')"))
            .collect::<Vec<_>>()
            .join(" || ' ' || ");
        let mut conds: Vec<String> = (0..patterns.len())
            .map(|i| format!("lower({text}) LIKE ${}", i + 2))
            .collect();
        conds.extend(t.also.map(str::to_string));
        if conds.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let keys: Vec<&str> = t.key.iter().map(|(k, _)| *k).collect();
        let select = format!(
            "SELECT {}, {} FROM {} WHERE tenant = $1 AND ({})",
            keys.join(", "),
            t.read.join(", "),
            t.name,
            conds.join(" OR ")
        );
        let by_key = keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} = ${}", i + 2))
            .collect::<Vec<_>>()
            .join(" AND ");
        let n = keys.len();
        Ok(with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let mut q = sqlx::query(AssertSqlSafe(select)).bind(tenant.as_str());
            for p in patterns {
                q = q.bind(p.as_str());
            }
            let found = q.fetch_all(&mut *tx).await?;
            let (mut deleted, mut redacted) = (Vec::new(), 0u64);
            for r in &found {
                let mut key = Vec::with_capacity(n);
                for (i, (_, int)) in t.key.iter().enumerate() {
                    key.push(if *int {
                        Key::Int(r.try_get(i)?)
                    } else {
                        Key::Text(r.try_get(i)?)
                    });
                }
                let cols = (0..t.read.len())
                    .map(|j| r.try_get::<Option<String>, _>(n + j))
                    .collect::<Result<Vec<_>, _>>()?;
                let row = Row {
                    key,
                    cols,
                    names: t.read,
                };
                let Some((statements, values)) = statements(t, &by_key, judge(&row)) else {
                    continue;
                };
                for statement in statements {
                    let mut q = sqlx::query(AssertSqlSafe(statement)).bind(tenant.as_str());
                    for k in &row.key {
                        q = match k {
                            Key::Int(i) => q.bind(*i),
                            Key::Text(s) => q.bind(s.clone()),
                        };
                    }
                    for v in &values {
                        q = q.bind(v.clone());
                    }
                    q.execute(&mut *tx).await?;
                }
                if values.is_empty() {
                    deleted.push(row);
                } else {
                    redacted += 1;
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>((deleted, redacted))
        })?)
    }
}
