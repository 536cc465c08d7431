//! Answers to what a human asks an employee in chat, with no language model: a
//! directive that turns one of its knobs (a focus segment, a pause on contact, a top
//! goal) is applied and confirmed exactly (see `directives.rs`); a question naming a
//! goal in words gets that goal's figure, target and what is being done about it (see
//! `asking.rs`); status questions are answered from the intentions and the queue, the
//! goals overview from the goals and the metrics believed, greetings in the persona's
//! style; a request is pointed to the task route (a chat message alone sets nothing in
//! motion), and anything else gets a plain statement of what the employee can answer.
//! Pure: the same mind, time and words give the same answer (and the same change).

use super::directives::{self, Directive};
use super::{Decision, IntentionState, Mind, Situation, asking, style};

/// What kind of message the human wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Hello.
    Greeting,
    /// What are you working on?
    Status,
    /// How are your goals going? (or one metric)
    Goals,
    /// Please do something.
    Request,
    /// Change how you work: a focus, a pause on contact, a top goal (or words that
    /// sound so but change nothing).
    Directive,
    /// Praise, a correction or a suggestion (see [`super::feedback`]).
    Feedback,
    /// Anything else.
    Other,
}

fn has_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        text.split(|c: char| !c.is_alphanumeric() && c != '\'')
            .collect::<Vec<_>>()
            .windows(w.split(' ').count())
            .any(|win| win.join(" ") == *w)
    })
}

/// What `text` asks.
pub fn classify(text: &str) -> Asked {
    let t = text.to_lowercase();
    if super::feedback::read(text).is_some() {
        Asked::Feedback
    } else if has_any(
        &t,
        &[
            "status",
            "working on",
            "doing",
            "busy",
            "up to",
            "update",
            "queue",
            "approvals",
            "pending",
        ],
    ) {
        Asked::Status
    } else if has_any(
        &t,
        &[
            "goal", "goals", "target", "targets", "progress", "on track", "metric", "metrics",
            "quota", "numbers", "kpi", "kpis",
        ],
    ) {
        Asked::Goals
    } else if has_any(
        &t,
        &[
            "please",
            "can you",
            "could you",
            "would you",
            "send",
            "schedule",
            "prepare",
            "draft",
            "follow up",
            "remind",
            "book",
            "set up",
        ],
    ) {
        Asked::Request
    } else if has_any(
        &t,
        &[
            "hi",
            "hello",
            "hey",
            "morning",
            "afternoon",
            "evening",
            "thanks",
            "thank you",
        ],
    ) {
        Asked::Greeting
    } else {
        Asked::Other
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

impl Mind {
    /// The employee's answer to directive `d` from `who` (read by the rules or by a
    /// model), applied to this mind first, and the decisions to record.
    pub fn directed(
        &mut self,
        s: &Situation<'_>,
        who: &str,
        d: Directive,
    ) -> (String, Vec<Decision>) {
        let hello = self.hello(s, who);
        let stop = if d == Directive::Unknown {
            "."
        } else {
            asking::stop(s.persona)
        };
        let (said, made) = self.direct(s, who, d);
        (format!("{hello}{stop} {said}"), made)
    }

    /// How the employee greets `who` in an answer ("Hi Pat").
    fn hello(&self, s: &Situation<'_>, who: &str) -> String {
        let st = style::style(s.persona, self.style_shift);
        let greeting = st["greeting"].as_str().unwrap_or("Hello");
        let first = who
            .split(['<', '@'])
            .next()
            .and_then(|n| n.split_whitespace().next())
            .unwrap_or("")
            .trim_matches('"');
        if first.is_empty() {
            greeting.to_string()
        } else {
            format!("{greeting} {first}")
        }
    }

    /// The employee's answer to `text` from `who`, and the decisions to record: a
    /// directive in the words is applied to this mind before it answers.
    pub fn answer(
        &mut self,
        s: &Situation<'_>,
        who: &str,
        text: &str,
    ) -> (Asked, String, Vec<Decision>) {
        let me = s.me["name"].as_str().unwrap_or("your colleague");
        let hello = self.hello(s, who);
        let stop = asking::stop(s.persona);
        // Coaching that sounds like an order ("next time, always cc me") stays coaching.
        let coaching = super::feedback::read(text).is_some();
        match directives::read(text, s.now, &self.goals) {
            Some(Directive::Unknown) if coaching => {}
            Some(d) => {
                let (said, made) = self.directed(s, who, d);
                return (Asked::Directive, said, made);
            }
            None => {}
        }
        let asked = classify(text);
        if asked != Asked::Feedback {
            let named = asking::named_goals(&self.goals, text);
            if !named.is_empty() && (asking::asks(text) || asked != Asked::Request) {
                let body = format!("{hello}{stop} {}", self.goal_answer(s, &named));
                return (Asked::Goals, body, Vec::new());
            }
        }
        let body = match asked {
            Asked::Greeting => format!(
                "{hello}! I'm {me}, {}. Ask me what I'm working on or how my goals are going, or give me a task.",
                s.me["job_title"].as_str().unwrap_or("here to help")
            ),
            Asked::Status => format!("{hello}. {}", self.status_text()),
            Asked::Goals => format!("{hello}. {}", self.goals_text(text)),
            Asked::Request => {
                let handle = s.me["handle"].as_str().unwrap_or("<handle>");
                format!(
                    "{hello}. I can't act on a request made in chat: without a language model I act only through my plans and the tasks I'm given, so nothing would follow from this message. To have it done, assign it to me as a task and I'll track it to done and report back: `empla task assign {handle} \"{}\"` (or `POST /api/v1/employees/{handle}/tasks`).",
                    text.trim().replace('"', "'")
                )
            }
            Asked::Feedback => match super::feedback::read(text) {
                Some(f) if f.kind == super::feedback::FeedbackKind::Praise => {
                    format!("{hello}. Thank you — I'll keep doing it that way.")
                }
                Some(f) if f.kind == super::feedback::FeedbackKind::Improvement => format!(
                    "{hello}. Thanks, noted for next time: \"{}\".",
                    f.correction.unwrap_or_default()
                ),
                _ => format!(
                    "{hello}. Understood — I'll adjust: \"{}\".",
                    super::feedback::own_words(text)
                ),
            },
            Asked::Directive | Asked::Other => format!(
                "{hello}. I can't answer that without a language model. I can tell you what I'm working on and how my goals are going, and take tasks."
            ),
        };
        (asked, body, Vec::new())
    }

    fn status_text(&self) -> String {
        let mut parts = Vec::new();
        if self.intentions.is_empty() {
            parts.push("I have nothing in progress right now".to_string());
        } else {
            let list: Vec<String> = self
                .intentions
                .iter()
                .take(5)
                .map(|i| {
                    let what = i.plan.replace('_', " ");
                    match &i.state {
                        IntentionState::AwaitingApproval { action } => {
                            format!("{what} (waiting for approval of {})", action.kind)
                        }
                        IntentionState::Waiting { event, .. }
                            if event == directives::PAUSE_LIFTED =>
                        {
                            format!("{what} (held by a pause on contact)")
                        }
                        IntentionState::Waiting { event, .. } => {
                            format!("{what} (waiting for {event})")
                        }
                        IntentionState::AwaitingOutcome { .. } => {
                            format!("{what} (waiting to see how it lands)")
                        }
                        IntentionState::AwaitingSubgoal { .. } => format!("{what} (on a sub-goal)"),
                        IntentionState::Ready => format!("{what} (step {})", i.step + 1),
                    }
                })
                .collect();
            parts.push(format!(
                "I'm working on {}: {}",
                list.len(),
                list.join("; ")
            ));
        }
        let pending = self.pending_approvals().len();
        if pending > 0 {
            parts.push(format!("{pending} action(s) wait for approval"));
        }
        parts.push(format!("I'm in the {} phase", self.phase.as_str()));
        let at_risk: Vec<&str> = self
            .goals
            .iter()
            .filter(|g| g.at_risk() || g.blocked.is_some())
            .map(|g| g.spec.description.as_str())
            .collect();
        if !at_risk.is_empty() {
            parts.push(format!("needing attention: {}", at_risk.join("; ")));
        }
        let directives = self.directives.in_force(&self.goals);
        if !directives.is_empty() {
            parts.push(format!("directives in force: {}", directives.join("; ")));
        }
        format!("{}.", parts.join(". "))
    }

    fn goals_text(&self, text: &str) -> String {
        let t = text.to_lowercase();
        let mut goals: Vec<_> = self.goals.iter().collect();
        // A question naming a metric gets that goal alone.
        let named: Vec<_> = goals
            .iter()
            .copied()
            .filter(|g| {
                let m = g.spec.metric.replace('_', " ");
                t.contains(&m) || t.contains(&g.spec.id.replace('_', " "))
            })
            .collect();
        if !named.is_empty() {
            goals = named;
        }
        if goals.is_empty() {
            return "I have no goals set.".into();
        }
        let lines: Vec<String> = goals
            .iter()
            .map(|g| {
                let cmp = super::language::sign(g.spec.comparison);
                let (unit, target) = (g.spec.unit.as_deref(), g.spec.target);
                let fig = |x: f64| super::asking::figure(x, unit, target);
                let now = match g.current {
                    Some(c) => format!("at {}", fig(c)),
                    None => "no figure reported yet".into(),
                };
                let mut line = format!(
                    "{}: {now}, target {cmp} {} ({} there)",
                    g.spec.description,
                    fig(target),
                    pct(g.progress)
                );
                if let Some(b) = &g.blocked {
                    line.push_str(&format!(", blocked: {b}"));
                } else if g.at_risk() {
                    line.push_str(", at risk");
                }
                line
            })
            .collect();
        format!("Where my goals stand — {}.", lines.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_told_apart() {
        assert_eq!(classify("What are you working on?"), Asked::Status);
        assert_eq!(classify("how are your goals going"), Asked::Goals);
        assert_eq!(classify("Could you send Acme the deck?"), Asked::Request);
        assert_eq!(classify("hey there"), Asked::Greeting);
        assert_eq!(classify("What is the capital of Peru?"), Asked::Other);
        assert_eq!(classify("Great job on that reply"), Asked::Feedback);
        assert_eq!(classify("Thanks!"), Asked::Greeting);
        // Whole words: "this" is not "hi".
        assert_eq!(classify("this"), Asked::Other);
    }
}
