//! Forgetting a person in a Mind (`empla forget`): the beliefs that mention them go,
//! and so do the intentions that are theirs — started by their mail or task, or
//! waiting on an action cancelled with their records — with the sub-goals and parents
//! of those; other intentions keep going with the mentions of them redacted. Messages
//! and calendar events of theirs are no longer watched, a pause on contact with them is
//! lifted with what it held, and a directive they gave no longer names them.
//!
//! Nothing is decided and nothing recorded: the intentions simply end, as their
//! records (mail, approvals, tasks) are gone too.

use super::*;
use crate::model::Forgetting;
use std::collections::BTreeSet;

impl Mind {
    /// Forgets `who` (see the module). `cancelled` are this employee's actions whose
    /// approval or outbox row went with them. Answers how many beliefs, intentions and
    /// watched items went or changed.
    pub fn forget(&mut self, who: &Forgetting, cancelled: &BTreeSet<u64>) -> usize {
        let person = &who.person;
        let mut n = self
            .beliefs
            .retain(|k, b| !person.mentions(k) && !person.mentioned_in(&b.value));
        let theirs = |it: &Intention| {
            who.owns(&it.event)
                || it.awaited.as_ref().is_some_and(|a| who.owns(a))
                || it.last_action.is_some_and(|a| cancelled.contains(&a))
                || matches!(&it.state, IntentionState::AwaitingApproval { action }
                    if cancelled.contains(&action.id) || who.owns(&action.params))
        };
        let mut gone: BTreeSet<u64> = self
            .intentions
            .iter()
            .filter(|it| theirs(it))
            .map(|it| it.id)
            .collect();
        // A pause on contact with them goes, with what it held for them (each held
        // action was addressed to them); pauses they asked for stay, without their name.
        let before = self.directives.pauses.len();
        self.directives.pauses.retain(|p| {
            let about = person.mentions(&p.target);
            if about {
                gone.extend(p.held.iter().copied());
            }
            !about
        });
        n += before - self.directives.pauses.len();
        let d = &mut self.directives;
        for by in d
            .pauses
            .iter_mut()
            .map(|p| &mut p.by)
            .chain(d.focus.as_mut().map(|f| &mut f.by))
            .chain(d.priority.as_mut().map(|p| &mut p.by))
        {
            if let Some(r) = person.redact(by) {
                *by = r;
                n += 1;
            }
        }
        // A sub-goal goes with its parent, and a parent cannot resume without its
        // sub-goal: the whole family goes.
        loop {
            let more: Vec<u64> = self
                .intentions
                .iter()
                .filter(|it| !gone.contains(&it.id))
                .filter(|it| {
                    it.parent.is_some_and(|p| gone.contains(&p))
                        || matches!(it.state, IntentionState::AwaitingSubgoal { child } if gone.contains(&child))
                })
                .map(|it| it.id)
                .collect();
            if more.is_empty() {
                break;
            }
            gone.extend(more);
        }
        self.intentions.retain(|it| !gone.contains(&it.id));
        n += gone.len();
        for it in &mut self.intentions {
            let mut changed = person.redact_json(&mut it.event);
            if let Some(a) = it.awaited.as_mut() {
                changed |= person.redact_json(a);
            }
            if let IntentionState::AwaitingApproval { action } = &mut it.state {
                changed |= person.redact_json(&mut action.params);
            }
            n += usize::from(changed);
        }
        n += self
            .watch
            .forget(|item| who.is_their_message(item) || person.mentions(item));
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;
    use serde_json::json;

    fn intention(id: u64, event: Json, state: IntentionState, parent: Option<u64>) -> Intention {
        Intention {
            id,
            plan: "answer".into(),
            goal: None,
            context: "email.received".into(),
            step: 0,
            state,
            since: Utc::now(),
            event,
            parent,
            variants: Vec::new(),
            last_action: None,
            awaited: None,
            proposed: false,
            text: None,
            pending: false,
            results: Default::default(),
            transcript: Vec::new(),
            tool_call: None,
            tool_tokens: 0,
        }
    }

    fn action(id: u64, params: Json) -> Action {
        Action {
            id,
            intention: 1,
            plan: "answer".into(),
            step: 0,
            kind: "email.reply".into(),
            params,
            variant: None,
            disposition: Disposition::Execute,
        }
    }

    #[test]
    fn their_beliefs_and_intentions_go_and_others_keep_going_redacted() {
        let mut m = Mind::new(&[], Phase::Assisted, 7);
        let belief = |v: Json| Belief {
            value: v,
            confidence: 0.9,
            source: "email.received".into(),
            kind: "event".into(),
            at: Utc::now(),
        };
        m.beliefs.set(
            "last.email.received",
            belief(json!({"from": "Sarah Chen <sarah@acme.com>", "body": "Quote?"})),
        );
        m.beliefs.set(
            "last.chat.message",
            belief(json!({"from": "Raj Patel", "text": "Hi"})),
        );
        m.beliefs.set("champion.sarah chen", belief(json!(true)));
        let hers = json!({"kind": "email.received", "payload": {"from": "Sarah Chen <sarah@acme.com>", "message_id": "m1"}});
        let rajs = json!({"kind": "task.assigned", "payload": {"requester": "Raj Patel", "description": "Call Sarah Chen's boss"}});
        m.intentions = vec![
            intention(1, hers.clone(), IntentionState::Ready, None),
            intention(2, hers, IntentionState::Ready, Some(1)),
            intention(
                3,
                json!({"kind": "email.received", "payload": {"message_id": "m2"}}),
                IntentionState::AwaitingApproval {
                    action: action(9, json!({"in_reply_to": "m2", "body": "Thanks"})),
                },
                None,
            ),
            intention(4, rajs, IntentionState::Ready, None),
            intention(
                5,
                json!({"kind": "cron.tick"}),
                IntentionState::AwaitingSubgoal { child: 2 },
                None,
            ),
        ];
        m.watch.unanswered.insert("m1".into(), Utc::now());
        m.watch.unanswered.insert("m3".into(), Utc::now());
        let mut who = Forgetting::new(Person::parse("Sarah Chen <sarah@acme.com>"));
        who.messages.insert("m1".into());
        let n = m.forget(&who, &BTreeSet::from([9]));
        // Two beliefs, intentions 1, 2, 3 (cancelled) and 5 (waits on 2), the redacted
        // 4, and the watched m1.
        assert_eq!(n, 2 + 4 + 1 + 1);
        assert_eq!(m.beliefs.len(), 1);
        let ids: Vec<u64> = m.intentions.iter().map(|i| i.id).collect();
        assert_eq!(ids, [4]);
        assert_eq!(
            m.intentions[0].event["payload"]["description"],
            "Call [forgotten]'s boss"
        );
        assert_eq!(m.watch.unanswered.keys().collect::<Vec<_>>(), ["m3"]);
        let all = serde_json::to_string(&m).unwrap().to_lowercase();
        assert!(!all.contains("sarah"), "{all}");
        assert_eq!(
            m.forget(&who, &BTreeSet::from([9])),
            0,
            "nothing left to forget"
        );
    }

    #[test]
    fn a_pause_on_them_is_lifted_with_what_it_held_and_their_name_leaves_the_others() {
        use super::super::directives::{Pause, Priority};
        let mut m = Mind::new(&[], Phase::Autonomous, 7);
        let pause = |target: &str, by: &str, held: Vec<u64>| Pause {
            target: target.into(),
            until: None,
            by: by.into(),
            since: Utc::now(),
            held,
        };
        m.directives.pauses = vec![
            pause("sarah@acme.com", "vp <vp@example.com>", vec![1]),
            pause("Globex", "Sarah Chen <sarah@acme.com>", vec![]),
        ];
        m.directives.priority = Some(Priority {
            goal: "pipeline_coverage".into(),
            by: "Sarah Chen".into(),
            since: Utc::now(),
        });
        let waiting = IntentionState::Waiting {
            event: super::super::directives::PAUSE_LIFTED.into(),
            until: None,
        };
        m.intentions = vec![
            intention(1, json!({"kind": "signal.follow_up"}), waiting, None),
            intention(2, json!({"kind": "cron.tick"}), IntentionState::Ready, None),
        ];
        let who = Forgetting::new(Person::parse("Sarah Chen <sarah@acme.com>"));
        // The pause, the intention it held, and the two directives she gave.
        assert_eq!(m.forget(&who, &BTreeSet::new()), 1 + 1 + 2);
        let targets: Vec<&str> = m
            .directives
            .pauses
            .iter()
            .map(|p| p.target.as_str())
            .collect();
        assert_eq!(targets, ["Globex"]);
        assert!(m.directives.pauses[0].by.starts_with("[forgotten]"));
        assert_eq!(m.intentions.iter().map(|i| i.id).collect::<Vec<_>>(), [2]);
        let all = serde_json::to_string(&m).unwrap().to_lowercase();
        assert!(!all.contains("sarah"), "{all}");
    }
}
