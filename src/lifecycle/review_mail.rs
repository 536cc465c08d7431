//! A review reaches the employee's manager by mail, written out in words; the
//! manager's reply to that mail is kept as a note on the review.

use crate::capabilities::email::actions::{deliver_mail, notice};
use crate::capabilities::{CapabilityError, Hands, Sender};
use crate::model::{MailMessage, Manager, Review, ReviewNote, bare_address};
use crate::store::ReviewKey;

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The review in words.
pub fn text(name: &str, r: &Review) -> String {
    let mut t = format!(
        "Performance review of {name} for {} ({} to {}).\n\n",
        r.period,
        r.from.format("%Y-%m-%d"),
        r.to.format("%Y-%m-%d")
    );
    t.push_str(&format!(
        "Goals: {} reached on average.\n",
        pct(r.goal_completion)
    ));
    for g in &r.goals {
        t.push_str(&format!("- {}\n", g.line()));
    }
    let ended: u32 = r.plans.iter().map(|p| p.ended).sum();
    t.push_str(&format!(
        "\nWork: {ended} plans ended, {} a day; {} carried through; {}.\n",
        r.tasks_per_day,
        r.task_success_rate
            .map_or("none ended yet".into(), |s| format!("{} of them", pct(s))),
        r.avg_task_duration
            .map_or("no durations yet".into(), |h| format!(
                "{h} hours each on average"
            )),
    ));
    if let Some(i) = r.improvement_rate {
        t.push_str(&format!(
            "Trend: success rate {} {} points from the first half of the period to the second.\n",
            if i >= 0.0 { "up" } else { "down" },
            (i.abs() * 100.0).round()
        ));
    }
    match r.feedback_score {
        Some(s) => t.push_str(&format!(
            "Feedback: rated {} on average over {} notes.\n",
            pct(s),
            r.team_feedback.len()
        )),
        None => t.push_str(&format!(
            "Feedback: {} notes, none rated.\n",
            r.team_feedback.len()
        )),
    }
    if !r.development_areas.is_empty() {
        t.push_str("\nTo develop:\n");
        for a in &r.development_areas {
            t.push_str(&format!("- {a}\n"));
        }
        t.push_str("\nWhat I'll do:\n");
        for a in &r.improvement_plan {
            t.push_str(&format!("- {a}\n"));
        }
    }
    t.push_str(&format!(
        "\nReply to this mail to add your notes to the review, or run `empla review show {}`.",
        r.id
    ));
    t
}

/// Mails `r` to `manager` (a human) as `me`, and remembers the mail so a reply adds a
/// note. Answers whether it was sent (a manager who is an employee gets no mail).
pub async fn send(
    hands: &Hands,
    me: &Sender,
    manager: Option<&Manager>,
    r: &Review,
) -> Result<bool, CapabilityError> {
    let Some(Manager::Human { name, email }) = manager else {
        return Ok(false);
    };
    let m = notice(
        hands,
        me,
        &format!("review:{}:{}", r.id, r.created_at.timestamp_micros()),
        format!("{name} <{email}>"),
        format!("Performance review: {} for {}", me.name, r.period),
        text(&me.name, r),
    );
    hands
        .store
        .set_review_mail(&hands.tenant, &r.id, &m.message_id)
        .await?;
    deliver_mail(hands, &m).await?;
    Ok(true)
}

/// A reply to a review mail, from the employee's manager, adds its words as a note.
/// Answers whether it did.
pub(crate) async fn note_by_reply(hands: &Hands, m: &MailMessage) -> bool {
    let Some(asked) = m.answers() else {
        return false;
    };
    let asked = crate::model::clean_message_id(asked);
    let found = hands
        .store
        .review(&hands.tenant, ReviewKey::Mail(asked))
        .await;
    let Ok(Some(review)) = found else {
        return false;
    };
    let manager = match hands
        .store
        .employee(&hands.tenant, review.employee_id)
        .await
    {
        Ok(Some(p)) => p.manager,
        _ => return false,
    };
    let Some(Manager::Human { email, .. }) = manager else {
        return false;
    };
    if !email.eq_ignore_ascii_case(bare_address(&m.from)) {
        return false;
    }
    let words = crate::bdi::feedback::own_words(&m.body);
    if words.trim().is_empty() {
        return false;
    }
    let note = ReviewNote {
        by: bare_address(&m.from).to_ascii_lowercase(),
        text: words,
        at: m.at,
    };
    match hands
        .store
        .add_review_note(&hands.tenant, &review.id, &note)
        .await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, review = %review.id, "a reply to a review could not be kept");
            false
        }
    }
}
