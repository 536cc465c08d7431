//! Compiling plans: errors named by plan and field, and the trigger index.

use super::*;

fn parse(src: &str) -> Vec<PlanSpec> {
    #[derive(Deserialize)]
    struct F {
        plans: Vec<PlanSpec>,
    }
    toml::from_str::<F>(src).unwrap().plans
}

#[test]
fn text_put_in_parameters_keeps_them_json_and_other_texts_plain() {
    let specs = parse(
        r#"
        [[plans]]
        name = "quote"
        trigger = { event = "email.received" }
        steps = [
          { action = "email.reply", params = { body = "You wrote: {{ event.payload.body }}", n = 2 } },
          { escalate = "They said {{ event.payload.body }}" },
        ]
        "#,
    );
    let lib = PlanLibrary::compile(&specs, &[]).unwrap();
    let body = "Line one \"quoted\"\n> C:\\path\t<b>";
    let ctx = serde_json::json!({"event": {"payload": {"body": body}}});
    let params = lib
        .templates
        .get_template("quote/0/0.params")
        .unwrap()
        .render(minijinja::value::Serde(&ctx))
        .unwrap();
    let params: serde_json::Value = serde_json::from_str(&params).expect("valid JSON");
    assert_eq!(params["body"], format!("You wrote: {body}"));
    assert_eq!(params["n"], 2);
    let text = lib
        .templates
        .get_template("quote/1/escalate")
        .unwrap()
        .render(minijinja::value::Serde(&ctx))
        .unwrap();
    assert_eq!(text, format!("They said {body}"));
}

#[test]
fn errors_name_the_plan_the_field_and_the_expression_error() {
    let specs = parse(
        r#"
        [[plans]]
        name = "bad"
        goal = "nope"
        trigger = { event = "metric", when = "event.payload.value <" }
        contingency = "missing"
        steps = [{ action = "email.send", params = { body = "{{ unclosed" } }, { wait = "x", llm = "y" }, { llm = "plan", prompt = "Plan the week" }, { wait = "x", fallback = "z" }, { llm = "Plan the week" }, { llm = "classify", prompt = "Which?", fallback = "a" }]
        "#,
    );
    let errs = PlanLibrary::compile(&specs, &["coverage"]).unwrap_err();
    let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(
        has("plan `bad`: `trigger.when` is not a valid CEL expression"),
        "{text:?}"
    );
    assert!(has("`goal` names `nope`"), "{text:?}");
    assert!(has("`steps[0].params` is not a valid template"), "{text:?}");
    assert!(has("`steps[1]` must set exactly one"), "{text:?}");
    assert!(has("`contingency` names `missing`"), "{text:?}");
    assert!(
        has("`steps[2].fallback` is missing: an `llm` step needs a `fallback`"),
        "{text:?}"
    );
    assert!(
        has("`steps[3]` sets `prompt`, `fallback` or `save_as`, which go with `llm` only"),
        "{text:?}"
    );
    assert!(
        has(
            "`steps[4].llm` is \"Plan the week\": it is the kind of language step, one of compose, classify, summarise, plan"
        ),
        "{text:?}"
    );
    assert!(
        has("`steps[5].labels` is missing: an `llm = \"classify\"` step needs the labels"),
        "{text:?}"
    );
}

#[test]
fn plans_are_indexed_by_trigger() {
    let specs = parse(
        r#"
        [[plans]]
        name = "a"
        trigger = { event = "email.*" }
        steps = [{ action = "email.reply" }]
        [[plans]]
        name = "b"
        trigger = { event = "email.received" }
        steps = [{ escalate = "help" }]
        "#,
    );
    let lib = PlanLibrary::compile(&specs, &[]).unwrap();
    let names: Vec<&str> = lib
        .triggered_by("email.received")
        .map(|p| p.spec.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(lib.triggered_by("email.sent").count(), 1);
    assert_eq!(lib.triggered_by("metric").count(), 0);
}
