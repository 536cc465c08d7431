//! The executive assistant's hands (seed 4.5): it reads the executive's mail as a
//! delegate and triages it (`email.triage`), and briefs the executive on their day
//! every morning (`calendar.daily_brief`). Delegation is configured, not coded: an
//! employee whose permissions grant `email = ["read_delegated"]` reads the mail of its
//! human manager — mail to that address reaches it as `email.delegated` events,
//! through the same intake as its own mail.

mod brief;
mod labels;
mod triage;

pub use labels::{Reading, gist, read};

use super::registry::{ActionKind, Param, ParamType};

/// The assistant's action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "email.triage",
            "Triages the executive's mail: one message (`message_id`) or all that waited longer than `older_than_hours`; each labelled (urgent, meeting request, needs reply, FYI), prioritised and summarised, an urgent one mailed to the executive at once.",
            // It reads and sorts; the only mail it writes goes to the executive it
            // works for, and an urgent notice that waits for approval is no notice.
            false,
            |a| Box::pin(triage::run(a)),
        )
        .params(vec![
            Param::optional("message_id", Text),
            Param::optional("older_than_hours", Number),
        ])
        .one_of(&["message_id", "older_than_hours"]),
        ActionKind::new(
            "calendar.daily_brief",
            "Mails the executive their day: today's meetings with their briefs, focus time, the mail waiting for their reply, the tasks due; `day` (a date, or a cron tick's time) picks another day.",
            true,
            |a| Box::pin(brief::run(a)),
        )
        .params(vec![
            Param::optional("day", Text),
            Param::optional("send_to", Recipients),
        ]),
    ]
}
