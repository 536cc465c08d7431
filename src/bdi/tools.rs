//! Working out a task with a model and the employee's actions as tools
//! (`llm = "tools"`): a bounded loop of turns. Each turn is an `llm.tools` action (the
//! model is asked when it runs); a tool the model calls becomes an action of the
//! intention like any other — it passes the gate of the phase and policy, and, chosen
//! by a model, anything that changes something waits for a human's approval in every
//! phase — and its result (or the human's refusal) goes back to the model in the next
//! turn. The loop ends when the model answers without calling a tool, after its turns,
//! or when a turn fails; its last text is the step's.

use super::intention::WRITTEN;
use super::*;

/// Longest tool result passed back to the model.
const RESULT_CHARS: usize = 4_000;

/// Most tokens one loop may use (its turns' prompts and answers together); the
/// employee's daily budget bounds all its loops.
pub(super) const LOOP_TOKENS: u64 = 60_000;

impl Mind {
    /// The parameters of one `llm.tools` turn: the step's own text, what the model is
    /// told (`task`) and the conversation so far.
    pub(super) fn tools_turn(
        &self,
        s: &Situation<'_>,
        brief: &str,
        fallback: &str,
        transcript: &[Json],
    ) -> Json {
        let mut context = self.language_view(s);
        context["brief"] = json!(brief);
        json!({
            "text": fallback,
            "task": {"context": context, "capabilities": s.playbook.capabilities},
            "transcript": transcript,
        })
    }

    /// Asks for the next turn of intention `i` (at its `tools` step).
    fn next_turn(&mut self, s: &Situation<'_>, i: usize, out: &mut Vec<Decision>) {
        let it = &self.intentions[i];
        let (brief, fallback, turns) = match s
            .playbook
            .plans
            .get(&it.plan)
            .and_then(|p| Some((p, p.steps.get(it.step)?)))
        {
            Some((
                plan,
                Step::Llm {
                    prompt,
                    fallback,
                    turns,
                    ..
                },
            )) => (
                self.render(s, plan, prompt, i).unwrap_or_default(),
                self.render(s, plan, fallback, i).unwrap_or_default(),
                *turns,
            ),
            _ => return,
        };
        // Every turn that called a tool is in the transcript.
        let taken = it
            .transcript
            .iter()
            .filter(|m| m["role"] == "assistant")
            .count();
        let spent = it.tool_tokens >= LOOP_TOKENS;
        if taken >= turns as usize || spent {
            let why = if spent {
                format!("{LOOP_TOKENS} tokens")
            } else {
                format!("{turns} turns")
            };
            let text = format!(
                "{}\n\n(I stopped after {why} with my tools; what is above is where it stands.)",
                it.text.clone().unwrap_or(fallback)
            );
            self.end_tools(s, i, text, out);
            return;
        }
        let params = self.tools_turn(s, &brief, &fallback, &it.transcript);
        let (intention, plan, step) = (it.id, it.plan.clone(), it.step);
        let act = Action {
            id: self.id(),
            intention,
            plan,
            step,
            kind: "llm.tools".into(),
            params,
            variant: None,
            disposition: Disposition::Execute,
        };
        let it = &mut self.intentions[i];
        it.last_action = Some(act.id);
        it.tool_call = None;
        it.state = IntentionState::Waiting {
            event: WRITTEN.into(),
            until: Some(s.now + chrono::Duration::minutes(10)),
        };
        it.since = s.now;
        out.push(Decision::Act(act));
    }

    /// The step ends with `text`; the plan goes on.
    fn end_tools(&mut self, s: &Situation<'_>, i: usize, text: String, out: &mut Vec<Decision>) {
        let it = &mut self.intentions[i];
        it.text = Some(text.clone());
        it.tool_call = None;
        it.state = IntentionState::Ready;
        it.step += 1;
        it.since = s.now;
        out.push(Decision::AskLlm {
            intention: it.id,
            prompt: "tools".into(),
            text,
        });
    }

    /// Adds the result of the tool call the intention waited for, and asks again.
    fn tool_result(
        &mut self,
        s: &Situation<'_>,
        i: usize,
        content: String,
        is_error: bool,
        out: &mut Vec<Decision>,
    ) {
        let it = &mut self.intentions[i];
        if let Some(id) = it.tool_call.take() {
            let content: String = content.chars().take(RESULT_CHARS).collect();
            let block = json!({"type": "tool_result", "id": id, "content": language::untrusted("tool result", &content), "is_error": is_error});
            // Every result for one turn of the model goes back in one message.
            match it.transcript.last_mut() {
                Some(last) if last["role"] == "user" && last["content"].is_array() => {
                    if let Some(blocks) = last["content"].as_array_mut() {
                        blocks.push(block);
                    }
                }
                _ => it
                    .transcript
                    .push(json!({"role": "user", "content": [block]})),
            }
        }
        self.next_turn(s, i, out);
    }

    /// An outcome for intention `i` at its `tools` step: a model's turn, or a tool's.
    pub(super) fn tools_outcome(
        &mut self,
        s: &Situation<'_>,
        i: usize,
        e: &Perceived,
        out: &mut Vec<Decision>,
    ) {
        let done = e.payload["status"] == "done";
        let result = &e.payload["result"];
        if e.payload["kind"] != "llm.tools" {
            let content = result.to_string();
            self.tool_result(s, i, content, !done, out);
            return;
        }
        // No model could take the turn (over budget, every provider failing): the task
        // is not done, and the requester is told why rather than handed a non-answer.
        if let Some(why) = result["written_by"]
            .as_str()
            .and_then(|w| w.strip_prefix("offline: "))
        {
            let why = format!("I could not work this task out: {why}");
            self.fail(s, i, why, out);
            return;
        }
        let it = &mut self.intentions[i];
        it.tool_tokens += result["tokens"].as_u64().unwrap_or(0);
        let text = result["text"].as_str().unwrap_or_default().to_string();
        if !text.is_empty() {
            it.text = Some(text.clone());
        }
        let calls: Vec<Json> = result["calls"].as_array().cloned().unwrap_or_default();
        if !done || calls.is_empty() {
            let text = it.text.clone().unwrap_or_default();
            self.end_tools(s, i, text, out);
            return;
        }
        if let Some(turn) = result["turn"].as_object() {
            it.transcript.push(Json::Object(turn.clone()));
        }
        // One call at a time: the others are answered so, and the model may call them
        // again.
        let mut others = Vec::new();
        for c in &calls[1..] {
            others.push(json!({"type": "tool_result", "id": c["id"], "content": "not run: one tool call at a time; call it again if still needed", "is_error": true}));
        }
        let call = &calls[0];
        let call_id = call["id"].as_str().unwrap_or_default().to_string();
        let kind = call["name"].as_str().unwrap_or_default().replace("__", ".");
        let params = if call["input"].is_object() {
            call["input"].clone()
        } else {
            json!({})
        };
        if !others.is_empty() {
            // Results for the other calls go with this call's, in one user turn.
            it.transcript
                .push(json!({"role": "user", "content": others}));
        }
        it.tool_call = Some(call_id);
        let mut disposition = self.gate(s, &kind, &params);
        if disposition == Disposition::Execute && !s.playbook.reads.contains(&kind) {
            disposition = Disposition::AwaitApproval {
                reason: "a language model chose this action to work out a task: a human approves what it would change".into(),
            };
        }
        let it = &self.intentions[i];
        let (intention, plan, step) = (it.id, it.plan.clone(), it.step);
        let act = Action {
            id: self.id(),
            intention,
            plan,
            step,
            kind: kind.clone(),
            params,
            variant: None,
            disposition: disposition.clone(),
        };
        out.push(Decision::Act(act.clone()));
        let it = &mut self.intentions[i];
        it.last_action = Some(act.id);
        it.since = s.now;
        match disposition {
            Disposition::Execute => {
                it.state = IntentionState::Waiting {
                    event: WRITTEN.into(),
                    until: Some(s.now + chrono::Duration::minutes(10)),
                };
            }
            Disposition::AwaitApproval { .. } => {
                it.state = IntentionState::AwaitingApproval { action: act };
            }
            Disposition::Propose => {
                let note =
                    format!("proposed to my mentor, not carried out (I am in shadow): {kind}");
                self.tool_result(s, i, note, false, out);
            }
        }
    }

    /// A human decided on a tool call of intention `i`: carried out and awaited, or the
    /// refusal told to the model.
    pub(super) fn tools_decided(
        &mut self,
        s: &Situation<'_>,
        i: usize,
        mut act: Action,
        approved: bool,
        reason: Option<String>,
        out: &mut Vec<Decision>,
    ) {
        if approved {
            act.disposition = Disposition::Execute;
            self.carried_out(&act);
            let it = &mut self.intentions[i];
            it.last_action = Some(act.id);
            it.state = IntentionState::Waiting {
                event: WRITTEN.into(),
                until: Some(s.now + chrono::Duration::minutes(10)),
            };
            it.since = s.now;
            out.push(Decision::Act(act));
        } else {
            let why = reason.unwrap_or_else(|| "no reason given".into());
            self.tool_result(
                s,
                i,
                format!("a human refused this action: {why}"),
                true,
                out,
            );
        }
    }

    /// Whether intention `i` is at a `tools` step.
    pub(super) fn at_tools(&self, s: &Situation<'_>, i: usize) -> bool {
        let it = &self.intentions[i];
        s.playbook.plans.get(&it.plan).is_some_and(|p| {
            matches!(
                p.steps.get(it.step),
                Some(Step::Llm {
                    kind: LlmKind::Tools,
                    ..
                })
            )
        })
    }
}
