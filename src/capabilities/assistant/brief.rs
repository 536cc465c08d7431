//! `calendar.daily_brief`: the executive's day on one page, mailed to them in the
//! morning — today's meetings, each with its brief (who, what was said before, what the
//! company knows: the `calendar.brief` content), focus blocks, the mail still waiting
//! for their reply (from the triage, unless they have answered it since), and the tasks
//! due today or overdue. An empty day says so plainly. The mail's Message-ID comes
//! from the action, so a retried brief is delivered once.

use super::triage::executive_of;
use crate::capabilities::calendar::actions::{brief_for, span};
use crate::capabilities::email::actions::{deliver_mail, own_mail};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, Hands, param};
use crate::model::{
    CalendarEvent, EventStatus, Task, TriageLabel, TriagedMail, bare_address, display_name,
    is_address,
};
use crate::store::TriageFilter;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value as Json, json};

/// How far back mail still waiting for a reply is looked for.
const WAITING_DAYS: i64 = 14;

/// One day's brief, before it is written out.
pub(crate) struct Day {
    /// The executive's first name, for the greeting.
    pub first_name: String,
    /// The day, as the executive reads it: "Monday 15 March".
    pub date: String,
    /// Meetings in order, each as its brief (its first line `Brief: <title>`).
    pub meetings: Vec<String>,
    /// Focus blocks, as times.
    pub focus: Vec<String>,
    /// Mail waiting for the executive's reply, most pressing first.
    pub waiting: Vec<TriagedMail>,
    /// Tasks due by the day's end (overdue ones too).
    pub tasks: Vec<Task>,
    /// Who signs it.
    pub signed: String,
}

/// `calendar.daily_brief`.
pub(super) async fn run(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let (exec, _) = executive_of(hands, me).await?;
    let p = &entry.params;
    let tz = hands.calendar.config.hours_of(&exec.address).tz;
    let date = match param(p, "day") {
        None => Utc::now().with_timezone(&tz).date_naive(),
        Some(d) => parse_day(d, tz)?,
    };
    let from = start_of(date, tz);
    let to = start_of(date + Duration::days(1), tz);

    // The executive's calendar where the node reaches it, else the meetings in the
    // assistant's own calendar that the executive attends.
    let events: Vec<CalendarEvent> = if hands.calendar.driver.reaches(&exec.address) {
        hands
            .calendar
            .driver
            .events(&hands.tenant, &exec.address, from, to)
            .await?
    } else {
        hands
            .calendar
            .driver
            .events(&hands.tenant, &me.email, from, to)
            .await?
            .into_iter()
            .filter(|e| {
                e.participants()
                    .iter()
                    .any(|x| bare_address(x).eq_ignore_ascii_case(&exec.address))
            })
            .collect()
    };
    let mut meetings = Vec::new();
    let mut focus = Vec::new();
    for e in events
        .iter()
        .filter(|e| e.status == EventStatus::Confirmed && e.start < to && e.end > from)
    {
        if e.focus {
            focus.push(span(e.start, e.end, tz));
        } else {
            meetings.push(brief_for(hands, me, e, &exec.address).await?);
        }
    }

    let waiting = waiting(hands, me.id, &exec.address, to).await?;
    let mut tasks: Vec<Task> = hands
        .store
        .tasks(&hands.tenant, me.id, true, 200)
        .await?
        .into_iter()
        .filter(|t| t.deadline.is_some_and(|d| d < to))
        .collect();
    tasks.sort_by_key(|t| t.deadline);

    let name = display_name(&exec.mailbox).unwrap_or(&exec.address);
    let day = Day {
        first_name: name.split_whitespace().next().unwrap_or(name).to_string(),
        date: date.format("%A %-d %B").to_string(),
        meetings,
        focus,
        waiting,
        tasks,
        signed: me.name.clone(),
    };
    let (subject, body) = write(&day, tz);
    let to_addr = match param(p, "send_to") {
        Some(t) if is_address(bare_address(t)) => t.to_string(),
        Some(t) => {
            return Err(CapabilityError::Invalid(format!(
                "`send_to` must be an address such as `robin@example.com`, got {t:?}"
            )));
        }
        None => exec.mailbox.clone(),
    };
    let m = own_mail(
        hands,
        me,
        entry,
        to_addr.clone(),
        subject.clone(),
        body.clone(),
    );
    deliver_mail(hands, &m).await?;
    Ok(json!({
        "sent_to": to_addr,
        "subject": subject,
        "day": date.to_string(),
        "meetings": day.meetings.len(),
        "waiting": day.waiting.len(),
        "tasks": day.tasks.len(),
        "brief": body,
    }))
}

/// When `date` starts in `tz` (in UTC).
fn start_of(date: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    tz.from_local_datetime(&midnight).earliest().map_or_else(
        || Utc.from_utc_datetime(&midnight),
        |t| t.with_timezone(&Utc),
    )
}

/// `day`: a date (`2027-03-15`) or a time (a cron tick's `at`), read in `tz`.
fn parse_day(d: &str, tz: chrono_tz::Tz) -> Result<NaiveDate, CapabilityError> {
    if let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d") {
        return Ok(date);
    }
    DateTime::parse_from_rfc3339(d)
        .map(|t| t.with_timezone(&tz).date_naive())
        .map_err(|_| {
            CapabilityError::Invalid(format!(
                "`day` must be a date such as 2027-03-15 or a time such as 2027-03-15T06:00:00Z, got {d:?}"
            ))
        })
}

/// Triaged mail that asks something of the executive, received before `before` and in
/// the last [`WAITING_DAYS`] (counted back from now, for a day ahead), that they have
/// not answered since.
async fn waiting(
    hands: &Hands,
    me: crate::model::EmployeeId,
    executive: &str,
    before: DateTime<Utc>,
) -> Result<Vec<TriagedMail>, CapabilityError> {
    let f = TriageFilter {
        label: None,
        since: Some(before.min(Utc::now()) - Duration::days(WAITING_DAYS)),
        limit: 200,
    };
    let mut out = Vec::new();
    for t in hands.store.triaged(&hands.tenant, me, &f).await? {
        if t.label == TriageLabel::Fyi || t.received_at >= before {
            continue;
        }
        let thread = match hands.store.mail(&hands.tenant, &t.message_id).await? {
            Some(m) => m.thread().to_string(),
            None => t.message_id.clone(),
        };
        let answered = hands
            .store
            .sent_in_thread(&hands.tenant, executive, &thread, t.received_at)
            .await?;
        if answered == 0 {
            out.push(t);
        }
    }
    Ok(out)
}

/// The brief as a mail: its subject and body.
pub(crate) fn write(d: &Day, tz: chrono_tz::Tz) -> (String, String) {
    let subject = format!("Your day: {}", d.date);
    let mut b = format!("Good morning {},\n\n", d.first_name);
    if d.meetings.is_empty() && d.focus.is_empty() && d.waiting.is_empty() && d.tasks.is_empty() {
        b.push_str(&format!(
            "Nothing is on your calendar for {}, no mail is waiting for your reply, and no task is due. The day is yours.\n\n{}\n",
            d.date, d.signed
        ));
        return (subject, b);
    }
    let count = |n: usize, one: &str, many: &str| match n {
        0 => format!("no {many}"),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    };
    b.push_str(&format!(
        "{}: {}, {} waiting for your reply, {} due.\n",
        d.date,
        count(d.meetings.len(), "meeting", "meetings"),
        count(d.waiting.len(), "message", "messages"),
        count(d.tasks.len(), "task", "tasks"),
    ));
    if !d.meetings.is_empty() {
        b.push_str("\nMEETINGS\n");
        for (i, brief) in d.meetings.iter().enumerate() {
            b.push_str(&format!("\n{}. ", i + 1));
            for (j, line) in brief.trim_end().lines().enumerate() {
                let line = if j == 0 {
                    line.trim_start_matches("Brief: ").to_string()
                } else {
                    format!("   {line}")
                };
                b.push_str(&line);
                b.push('\n');
            }
        }
    }
    if !d.focus.is_empty() {
        b.push_str("\nFOCUS TIME\n");
        for f in &d.focus {
            b.push_str(&format!("- {f}\n"));
        }
    }
    if !d.waiting.is_empty() {
        b.push_str("\nWAITING FOR YOUR REPLY\n");
        for t in &d.waiting {
            b.push_str(&format!(
                "- [{}] {} (since {})\n",
                t.label.describe(),
                t.summary,
                t.received_at.with_timezone(&tz).format("%a %-d %b %H:%M")
            ));
        }
    }
    if !d.tasks.is_empty() {
        b.push_str("\nTASKS DUE\n");
        for t in &d.tasks {
            let due = t
                .deadline
                .map(|d| d.with_timezone(&tz).format("%a %-d %b %H:%M").to_string())
                .unwrap_or_default();
            b.push_str(&format!(
                "- {} (due {due}, {} priority, from {})\n",
                t.description,
                t.priority.as_str(),
                t.requester
            ));
        }
    }
    b.push_str(&format!("\n{}\n", d.signed));
    (subject, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Day {
        Day {
            first_name: "Robin".into(),
            date: "Monday 15 March".into(),
            meetings: vec![],
            focus: vec![],
            waiting: vec![],
            tasks: vec![],
            signed: "Avery Brooks".into(),
        }
    }

    #[test]
    fn an_empty_day_says_so_plainly() {
        let (subject, body) = write(&day(), chrono_tz::UTC);
        assert_eq!(subject, "Your day: Monday 15 March");
        assert_eq!(
            body,
            "Good morning Robin,\n\nNothing is on your calendar for Monday 15 March, no mail is waiting for your reply, and no task is due. The day is yours.\n\nAvery Brooks\n"
        );
    }

    #[test]
    fn meetings_come_with_their_briefs_and_the_counts_lead() {
        let mut d = day();
        d.meetings.push(
            "Brief: Renewal\nWhen: Mon 15 Mar 2027, 10:00–10:30 UTC\n\nIvy Chen\n- 5 Mar: asked about the renewal\n".into(),
        );
        d.focus.push("Mon 15 Mar 2027, 14:00–16:00 UTC".into());
        let (_, body) = write(&d, chrono_tz::UTC);
        assert!(
            body.contains(
                "Monday 15 March: 1 meeting, no messages waiting for your reply, no tasks due."
            ),
            "{body}"
        );
        assert!(
            body.contains("MEETINGS\n\n1. Renewal\n   When: Mon 15 Mar 2027, 10:00–10:30 UTC\n   \n   Ivy Chen\n   - 5 Mar: asked about the renewal\n"),
            "{body}"
        );
        assert!(
            body.contains("FOCUS TIME\n- Mon 15 Mar 2027, 14:00–16:00 UTC\n"),
            "{body}"
        );
        assert!(!body.contains("WAITING"), "{body}");
    }

    #[test]
    fn a_day_is_a_date_or_a_time_in_the_executives_zone() {
        let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            parse_day("2027-03-15T03:00:00Z", tz).unwrap().to_string(),
            "2027-03-14"
        );
        assert_eq!(
            parse_day("2027-03-15", tz).unwrap().to_string(),
            "2027-03-15"
        );
        assert!(
            parse_day("tomorrow", tz)
                .unwrap_err()
                .to_string()
                .contains("2027-03-15")
        );
    }
}
