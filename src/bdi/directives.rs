//! Directives: what a human tells an employee in chat to change how it works, applied
//! to the knobs it has — the segment its prospecting focuses on (a belief its plans
//! read, `focus.segment`), a pause on contact with an account or a person (the gate
//! holds every outward action addressed to them until the pause ends or is lifted), and
//! which goal comes first (its priority raised above every other). Each directive is
//! kept in the Mind, shown in the status, and recorded as a decision.
//!
//! Never a false promise: words that sound like a directive but turn no knob are
//! answered with what can be changed from chat, and a task route for the rest. With a
//! language model, words the rules cannot read are first read by the model into the
//! same knobs, checked like any outside input (see `by_model.rs`).

mod by_model;
mod read;

pub use by_model::{READ, from_answer};
pub use read::{Directive, is_directive, read};

use super::*;
use chrono::SecondsFormat;

/// The belief a plan's template reads for the segment to prospect in
/// (`{{ beliefs['focus.segment'] | default('mid-market') }}`).
pub const FOCUS_BELIEF: &str = "focus.segment";
/// What an intention held back by a pause waits for (no outside event has this kind:
/// `empla.` is the node's own).
pub const PAUSE_LIFTED: &str = "empla.pause_lifted";
/// Pauses kept at most; the oldest go first.
const PAUSES_KEPT: usize = 64;

/// A size segment as people name it, and whom it covers (as `crm.find_leads` bands it:
/// see `capabilities::crm::leads::SEGMENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The name a plan passes as `segment`.
    pub name: &'static str,
    /// Words for it in chat.
    pub words: &'static [&'static str],
    /// Who it covers, in words.
    pub band: &'static str,
    /// The head counts it covers, from and to (inclusive).
    pub employees: (i64, Option<i64>),
}

/// The segments a focus directive may name.
pub const SEGMENTS: &[Segment] = &[
    Segment {
        name: "enterprise",
        words: &[
            "enterprise",
            "large accounts",
            "large companies",
            "big accounts",
            "big companies",
        ],
        band: "1000+ employees",
        employees: (1000, None),
    },
    Segment {
        name: "mid-market",
        words: &[
            "mid-market",
            "mid market",
            "midmarket",
            "mid-size",
            "mid-sized",
            "midsize",
        ],
        band: "100-999 employees",
        employees: (100, Some(999)),
    },
    Segment {
        name: "smb",
        words: &[
            "smb",
            "smbs",
            "small business",
            "small businesses",
            "small companies",
            "small accounts",
        ],
        band: "1-99 employees",
        employees: (1, Some(99)),
    },
];

fn segment(name: &str) -> Option<&'static Segment> {
    SEGMENTS.iter().find(|s| s.name == name)
}

/// The directives in force, kept in the Mind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Directives {
    /// The segment prospecting focuses on.
    #[serde(default)]
    pub focus: Option<Focus>,
    /// Accounts and people not to contact, oldest first.
    #[serde(default)]
    pub pauses: Vec<Pause>,
    /// The goal that comes first.
    #[serde(default)]
    pub priority: Option<Priority>,
}

/// A focus segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Focus {
    /// A name of [`SEGMENTS`].
    pub segment: String,
    /// Who asked.
    pub by: String,
    /// Since when (stored as microseconds).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub since: DateTime<Utc>,
}

/// A pause on contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    /// An account's name or a person's address (lower case), as the human named it.
    pub target: String,
    /// When it ends by itself; never, until lifted, when none.
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub until: Option<DateTime<Utc>>,
    /// Who asked.
    pub by: String,
    /// Since when (stored as microseconds).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub since: DateTime<Utc>,
    /// Intentions whose next action it holds back.
    #[serde(default)]
    pub held: Vec<u64>,
}

/// A goal made the top priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// Goal id.
    pub goal: String,
    /// Who asked.
    pub by: String,
    /// Since when (stored as microseconds).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub since: DateTime<Utc>,
}

/// One directive as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DirectiveView {
    /// `focus`, `pause` or `priority`.
    pub kind: String,
    /// The segment, the account or address paused, or the goal id.
    pub value: String,
    /// In words, e.g. "not contacting Acme until 2027-01-01".
    pub summary: String,
    /// When a pause ends by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Who gave it.
    pub by: String,
    /// Since when.
    pub since: DateTime<Utc>,
}

fn day(t: DateTime<Utc>) -> String {
    if t.time() == chrono::NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// Letters and digits only, lower case: how names are compared.
fn key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The mail addresses in `s` (lower case).
fn addresses(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '"'))
        .filter(|a| crate::model::is_address(a))
        .map(str::to_lowercase)
}

impl Pause {
    /// Whether it still holds at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|u| u > now)
    }

    /// Whether it is about `target` (an account name or address as written).
    fn names(&self, target: &str) -> bool {
        key(&self.target) == key(target)
    }

    /// "until 2027-01-01", or "until told otherwise".
    pub fn until_words(&self) -> String {
        match self.until {
            Some(u) => format!("until {}", day(u)),
            None => "until told otherwise".into(),
        }
    }

    /// "not contacting Acme until 2027-01-01".
    pub fn describe(&self) -> String {
        format!("not contacting {} {}", self.target, self.until_words())
    }

    /// Whether any of `who` (recipients, account or company names, as text) is the
    /// person paused, or someone at the account paused: an address at its domain, or
    /// its name among the words.
    pub fn covers(&self, who: &[String]) -> bool {
        let target = self.target.to_lowercase();
        if target.contains('@') {
            return who.iter().any(|w| addresses(w).any(|a| a == target));
        }
        let name = key(&target);
        let name_words: Vec<String> = target.split_whitespace().map(key).collect();
        if name.is_empty() {
            return false;
        }
        who.iter().any(|w| {
            let at_domain = addresses(w).any(|a| {
                let domain = a.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
                let labels: Vec<&str> = domain.split('.').collect();
                let (_, named) = labels.split_last().unwrap_or((&"", &[]));
                named.iter().any(|l| key(l) == name) || key(&named.join(".")) == name
            });
            let text: Vec<String> = w
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '"'))
                .filter(|t| !t.contains('@'))
                .map(key)
                .filter(|t| !t.is_empty())
                .collect();
            at_domain
                || text
                    .windows(name_words.len())
                    .any(|win| win == name_words.as_slice())
        })
    }
}

impl Directives {
    /// Whether none is in force.
    pub fn is_empty(&self) -> bool {
        self.focus.is_none() && self.pauses.is_empty() && self.priority.is_none()
    }

    /// Each directive in force, as the status shows it.
    pub fn views(&self, goals: &GoalBook) -> Vec<DirectiveView> {
        let mut out = Vec::new();
        if let Some(f) = &self.focus {
            out.push(DirectiveView {
                kind: "focus".into(),
                value: f.segment.clone(),
                summary: focus_words(&f.segment),
                until: None,
                by: f.by.clone(),
                since: f.since,
            });
        }
        for p in &self.pauses {
            out.push(DirectiveView {
                kind: "pause".into(),
                value: p.target.clone(),
                summary: p.describe(),
                until: p.until,
                by: p.by.clone(),
                since: p.since,
            });
        }
        if let Some(p) = &self.priority {
            out.push(DirectiveView {
                kind: "priority".into(),
                value: p.goal.clone(),
                summary: priority_words(&p.goal, goals),
                until: None,
                by: p.by.clone(),
                since: p.since,
            });
        }
        out
    }

    /// Each directive in force, in words ("focusing on enterprise accounts (1000+
    /// employees)", "not contacting Acme until 2027-01-01").
    pub fn in_force(&self, goals: &GoalBook) -> Vec<String> {
        self.views(goals).into_iter().map(|v| v.summary).collect()
    }
}

fn focus_words(name: &str) -> String {
    match segment(name) {
        Some(s) => format!("focusing on {} accounts ({})", s.name, s.band),
        None => format!("focusing on {name} accounts"),
    }
}

fn priority_words(goal: &str, goals: &GoalBook) -> String {
    match goals.get(goal) {
        Some(g) => format!(
            "top priority: {} ({})",
            goal.replace('_', " "),
            g.spec.description
        ),
        None => format!("top priority: {}", goal.replace('_', " ")),
    }
}

impl Mind {
    /// The directives in force.
    pub fn directives(&self) -> &Directives {
        &self.directives
    }

    /// Applies `d`, given by `who`: what to tell them (exactly what changed), and the
    /// decisions to record.
    pub(super) fn direct(
        &mut self,
        s: &Situation<'_>,
        who: &str,
        d: Directive,
    ) -> (String, Vec<Decision>) {
        let by = who.to_string();
        let yes = super::asking::affirm(s.persona);
        let mut out = Vec::new();
        let said = |summary: String, out: &mut Vec<Decision>| {
            out.push(Decision::Directive {
                summary,
                by: Some(by.clone()),
                intention: None,
            })
        };
        let text = match d {
            Directive::Focus(name) => {
                let seg = segment(name).expect("read only names known segments");
                let already = self
                    .directives
                    .focus
                    .as_ref()
                    .is_some_and(|f| f.segment == name);
                self.directives.focus = Some(Focus {
                    segment: name.into(),
                    by: who.into(),
                    since: s.now,
                });
                self.assert_focus(s.now);
                said(focus_words(name), &mut out);
                let used = s
                    .playbook
                    .plans
                    .templates
                    .templates()
                    .any(|(_, t)| t.source().contains(FOCUS_BELIEF));
                match (already, used) {
                    (true, _) => format!(
                        "I'm already focused on {} accounts ({}); I'll keep it that way.",
                        seg.name, seg.band
                    ),
                    (false, true) => format!(
                        "{yes} I'll prioritise accounts with {}: my lead searches look in the {} segment from now on, starting with the next one.",
                        seg.band, seg.name
                    ),
                    (false, false) => format!(
                        "Noted: I'm focusing on {} accounts ({}). None of my plans picks accounts by segment, though, so this shows in my status but changes nothing I do; for more, assign me a task.",
                        seg.name, seg.band
                    ),
                }
            }
            Directive::Unfocus => match self.directives.focus.take() {
                Some(f) => {
                    self.assert_focus(s.now);
                    said(format!("no longer {}", focus_words(&f.segment)), &mut out);
                    format!(
                        "Done: I'm no longer focused on {} accounts; my lead searches go back to my role's usual segment.",
                        f.segment
                    )
                }
                None => {
                    "I wasn't focused on any segment: my lead searches use my role's usual segment."
                        .into()
                }
            },
            Directive::Pause { target, until } => {
                let target = if target.contains('@') {
                    target.to_lowercase()
                } else {
                    target
                };
                let mut held = Vec::new();
                if let Some(i) = self.directives.pauses.iter().position(|p| p.names(&target)) {
                    held = self.directives.pauses.remove(i).held;
                }
                if self.directives.pauses.len() >= PAUSES_KEPT {
                    self.directives.pauses.remove(0);
                }
                let pause = Pause {
                    target: target.clone(),
                    until,
                    by: who.into(),
                    since: s.now,
                    held,
                };
                // What it already holds waits for the new end.
                for it in self.intentions.iter_mut() {
                    if pause.held.contains(&it.id) {
                        it.state = IntentionState::Waiting {
                            event: PAUSE_LIFTED.into(),
                            until,
                        };
                    }
                }
                let words = pause.describe();
                let until_words = pause.until_words();
                self.directives.pauses.push(pause);
                said(words, &mut out);
                let whom = if target.contains('@') {
                    target.clone()
                } else {
                    format!(
                        "anyone at {target} (an address at their domain or the account in my CRM)"
                    )
                };
                let lift = if until.is_some() {
                    String::new()
                } else {
                    format!(" Tell me \"resume {target}\" when I may again.")
                };
                format!(
                    "{yes} I won't contact {whom} {until_words}. Anything I would send them waits until then.{lift}"
                )
            }
            Directive::Resume { target } => {
                let found = self
                    .directives
                    .pauses
                    .iter()
                    .position(|p| p.names(&target))
                    .or_else(|| {
                        // "resume Acme" lifts the pause on "Acme Corp" too.
                        let k = key(&target);
                        self.directives
                            .pauses
                            .iter()
                            .position(|p| !k.is_empty() && key(&p.target).starts_with(&k))
                    });
                match found {
                    Some(i) => {
                        let p = self.directives.pauses.remove(i);
                        let waiting = p.held.len();
                        self.release_held(s.now);
                        said(format!("contact with {} resumed", p.target), &mut out);
                        let what = match waiting {
                            0 => String::new(),
                            1 => " The message I held for them goes out now.".into(),
                            n => format!(" The {n} messages I held for them go out now."),
                        };
                        format!("{yes} I can contact {} again.{what}", p.target)
                    }
                    None => {
                        format!("I wasn't holding off on {target}, so there is nothing to lift.")
                    }
                }
            }
            Directive::Prioritise(goal) => {
                let g = self.goals.get(&goal).map(|g| g.spec.description.clone());
                self.directives.priority = Some(Priority {
                    goal: goal.clone(),
                    by: who.into(),
                    since: s.now,
                });
                self.goals.set_top(Some(&goal));
                said(priority_words(&goal, &self.goals), &mut out);
                let name = goal.replace('_', " ");
                let mut c = name.chars();
                let name: String = c
                    .next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default();
                format!(
                    "{yes} {name} is my top priority now ({}). When plans compete I pick the ones serving it, and when I have too much on its work is the last I drop.",
                    g.unwrap_or_default()
                )
            }
            Directive::Unprioritise => match self.directives.priority.take() {
                Some(p) => {
                    self.goals.set_top(None);
                    said(format!("no top priority (was {})", p.goal), &mut out);
                    format!(
                        "Done: {} is no longer ahead of my other goals; I weigh them by urgency and importance again.",
                        p.goal.replace('_', " ")
                    )
                }
                None => "No goal was ahead of the others: I weigh them by urgency and importance."
                    .into(),
            },
            Directive::Unknown => self.knobs(s),
        };
        (text, out)
    }

    /// What can be changed from chat (for words that change nothing).
    fn knobs(&self, s: &Situation<'_>) -> String {
        let handle = s.me["handle"].as_str().unwrap_or("<handle>");
        let mut can = Vec::new();
        if s.playbook
            .plans
            .templates
            .templates()
            .any(|(_, t)| t.source().contains(FOCUS_BELIEF))
        {
            can.push("focus my prospecting on a segment (\"focus on enterprise deals\", mid-market or SMB)".to_string());
        }
        can.push("pause or resume contact with an account or a person (\"stop emailing Acme until January\", \"you can email Acme again\")".into());
        let goals: Vec<String> = self
            .goals
            .iter()
            .map(|g| g.spec.id.replace('_', " "))
            .collect();
        if !goals.is_empty() {
            can.push(format!(
                "make one of my goals my top priority ({})",
                goals.join(", ")
            ));
        }
        format!(
            "I can't change that from chat: it maps to nothing I can adjust. From chat I can {}. For anything else, assign it to me as a task and I'll track it to done: `empla task assign {handle} \"…\"` (or `POST /api/v1/employees/{handle}/tasks`).",
            can.join("; ")
        )
    }

    /// Sets (or clears) the focus belief from the focus directive.
    fn assert_focus(&mut self, now: DateTime<Utc>) {
        match &self.directives.focus {
            Some(f) => {
                if self.beliefs.get(FOCUS_BELIEF).map(|b| &b.value) != Some(&json!(f.segment)) {
                    let b = Belief {
                        value: json!(f.segment),
                        confidence: 1.0,
                        source: "directive".into(),
                        kind: "directive".into(),
                        at: now,
                    };
                    self.beliefs.set(FOCUS_BELIEF, b);
                }
            }
            None => {
                if self
                    .beliefs
                    .get(FOCUS_BELIEF)
                    .is_some_and(|b| b.source == "directive")
                {
                    self.beliefs.remove(FOCUS_BELIEF);
                }
            }
        }
    }

    /// Intentions held back by no pause any more go on with the step they were held at.
    fn release_held(&mut self, now: DateTime<Utc>) {
        let held: std::collections::BTreeSet<u64> = self
            .directives
            .pauses
            .iter()
            .flat_map(|p| p.held.iter().copied())
            .collect();
        for it in self.intentions.iter_mut() {
            if matches!(&it.state, IntentionState::Waiting { event, .. } if event == PAUSE_LIFTED)
                && !held.contains(&it.id)
            {
                it.state = IntentionState::Ready;
                it.since = now;
            }
        }
    }

    /// Every cycle: pauses past their end are over (recorded), what they held goes on,
    /// and the focus belief and the top goal follow the directives (a belief forgotten
    /// to keep within bounds is set again).
    pub(super) fn keep_directives(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
        if !self.directives.pauses.is_empty() {
            let live: std::collections::BTreeSet<u64> =
                self.intentions.iter().map(|i| i.id).collect();
            let (ended, kept): (Vec<Pause>, Vec<Pause>) =
                std::mem::take(&mut self.directives.pauses)
                    .into_iter()
                    .partition(|p| !p.in_force(s.now));
            self.directives.pauses = kept;
            for p in &mut self.directives.pauses {
                p.held.retain(|id| live.contains(id));
            }
            for p in ended {
                out.push(Decision::Directive {
                    summary: format!(
                        "the pause on contacting {} ended ({})",
                        p.target,
                        p.until_words()
                    ),
                    by: None,
                    intention: None,
                });
            }
        }
        self.release_held(s.now);
        self.assert_focus(s.now);
        let top = self.directives.priority.as_ref().map(|p| p.goal.as_str());
        if self.goals.top() != top {
            let top = top.map(str::to_string);
            self.goals.set_top(top.as_deref());
        }
    }

    /// Of plans triggered together, those serving the goal a human made the top
    /// priority, if any does; else all.
    pub(super) fn prefer_top_goal(&self, candidates: &mut Vec<&Plan>) {
        if let Some(top) = self.goals.top()
            && candidates
                .iter()
                .any(|p| p.spec.goal.as_deref() == Some(top))
        {
            candidates.retain(|p| p.spec.goal.as_deref() == Some(top));
        }
    }

    /// Holds intention `i`'s action (`kind`) back for pause `pause`: the intention
    /// waits at this step until the pause ends or is lifted, then takes it again.
    pub(super) fn hold(
        &mut self,
        s: &Situation<'_>,
        i: usize,
        pause: usize,
        kind: &str,
        out: &mut Vec<Decision>,
    ) {
        let p = &mut self.directives.pauses[pause];
        let it = &mut self.intentions[i];
        if !p.held.contains(&it.id) {
            p.held.push(it.id);
        }
        it.state = IntentionState::Waiting {
            event: PAUSE_LIFTED.into(),
            until: p.until,
        };
        it.since = s.now;
        out.push(Decision::Directive {
            summary: format!("held {kind} of {}: {}", it.plan, p.describe()),
            by: None,
            intention: Some(it.id),
        });
    }
}
