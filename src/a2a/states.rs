//! How an employee's work shows as A2A task states. A task is `submitted` when stored;
//! a plan taking it up makes it `working`; waiting for a human's approval makes it
//! `input-required` (and `working` again once approved); the intention's end makes it
//! `completed` or `failed`; a caller's cancel makes it `canceled`. A message the
//! employee answers in conversation is `completed` with the answer as its artifact.
//! Pure: no store, no clock.

use crate::model::TaskStatus;
use a2a::TaskState;

/// The A2A state a `task.update` of an A2A task stands for: its status, and what it
/// waits for (`approval`) if anything. None: the update changes no state (progress).
pub fn from_update(status: Option<TaskStatus>, waiting: Option<&str>) -> Option<TaskState> {
    match (status, waiting) {
        (Some(TaskStatus::Done), _) => Some(TaskState::Completed),
        (Some(TaskStatus::Failed), _) => Some(TaskState::Failed),
        (_, Some(w)) if !w.is_empty() => Some(TaskState::InputRequired),
        (Some(TaskStatus::InProgress), _) => Some(TaskState::Working),
        (Some(TaskStatus::Accepted), _) => Some(TaskState::Submitted),
        (None, _) => None,
    }
}

/// Whether a blocking `SendMessage` answers now: the task ended, or needs the caller
/// (or a human) before it can go on.
pub fn settled(state: &TaskState) -> bool {
    state.is_terminal() || matches!(state, TaskState::InputRequired | TaskState::AuthRequired)
}

/// The state's name on the wire and in the store (`TASK_STATE_COMPLETED`).
pub fn name(state: &TaskState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "TASK_STATE_UNSPECIFIED".into())
}

/// A state from its wire name.
pub fn parse(name: &str) -> Option<TaskState> {
    serde_json::from_value(serde_json::Value::String(name.into())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intentions_course_maps_to_the_protocols_states() {
        use TaskStatus::*;
        assert_eq!(
            from_update(Some(Accepted), None),
            Some(TaskState::Submitted)
        );
        assert_eq!(
            from_update(Some(InProgress), None),
            Some(TaskState::Working)
        );
        assert_eq!(
            from_update(Some(InProgress), Some("approval")),
            Some(TaskState::InputRequired)
        );
        assert_eq!(
            from_update(None, Some("approval")),
            Some(TaskState::InputRequired)
        );
        assert_eq!(from_update(Some(Done), None), Some(TaskState::Completed));
        assert_eq!(from_update(Some(Failed), None), Some(TaskState::Failed));
        // An end wins over a wait named in the same update.
        assert_eq!(
            from_update(Some(Done), Some("approval")),
            Some(TaskState::Completed)
        );
        // Progress alone changes no state.
        assert_eq!(from_update(None, None), None);
        assert_eq!(from_update(None, Some("")), None);
    }

    #[test]
    fn a_blocking_send_answers_on_an_end_or_a_wait_for_input() {
        for s in [
            TaskState::Completed,
            TaskState::Failed,
            TaskState::Canceled,
            TaskState::Rejected,
            TaskState::InputRequired,
            TaskState::AuthRequired,
        ] {
            assert!(settled(&s), "{s:?}");
        }
        assert!(!settled(&TaskState::Submitted));
        assert!(!settled(&TaskState::Working));
    }

    #[test]
    fn names_round_trip_as_on_the_wire() {
        assert_eq!(name(&TaskState::InputRequired), "TASK_STATE_INPUT_REQUIRED");
        for s in [
            TaskState::Submitted,
            TaskState::Working,
            TaskState::Canceled,
        ] {
            assert_eq!(parse(&name(&s)), Some(s));
        }
        assert_eq!(parse("done"), None);
    }
}
