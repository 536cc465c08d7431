//! Tests of the action registry: what it finds in plan steps, and recipients that are placeholders.

use super::*;

fn step(pairs: &[(&str, Json)]) -> Vec<BTreeMap<String, Json>> {
    vec![
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    ]
}

#[test]
fn a_typo_in_a_kind_is_an_error_suggesting_the_kind_meant() {
    let r = ActionRegistry::builtin();
    let f = r.check_step("email.sned", &step(&[]));
    assert_eq!(f.len(), 1);
    assert!(f[0].contains("did you mean `email.send`"), "{}", f[0]);
}

#[test]
fn a_missing_required_parameter_and_an_unknown_one_are_errors() {
    let r = ActionRegistry::builtin();
    let f = r.check_step(
        "email.send",
        &step(&[("subjet", json!("Hello")), ("body", json!("Hi"))]),
    );
    let text: Vec<&str> = f.iter().map(String::as_str).collect();
    assert!(text.iter().any(|m| m.contains("needs `to`")), "{text:?}");
    assert!(
        text.iter()
            .any(|m| m.contains("no parameter `subjet`") && m.contains("`subject`")),
        "{text:?}"
    );
}

#[test]
fn a_kind_without_a_driver_and_a_placeholder_recipient_are_errors() {
    let mut r = ActionRegistry::builtin();
    r.kinds.insert(
        "documents.fax".into(),
        ActionKind::without_driver("documents.fax", "Faxes a document", true),
    );
    let f = r.check_step("documents.fax", &step(&[("number", json!("123"))]));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with("no driver") && f[0].contains("Name a kind with a driver"),
        "{f:?}"
    );
    let f = r.check_step(
        "email.send",
        &step(&[
            (
                "to",
                json!("{{ event.payload.lead | default('prospects') }}"),
            ),
            ("subject", json!("Hi")),
            ("body", json!("Hello")),
        ]),
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("placeholder"), "{f:?}");
    assert!(f[0].contains("\"prospects\""), "{f:?}");
}

#[test]
fn recipients_that_name_someone_are_no_placeholder() {
    for ok in [
        json!("{{ event.payload.from }}"),
        json!("Sarah Chen <sarah@acme.com>"),
        json!(["{{ me.manager }}", "a@b.com"]),
        json!("{{ event.payload.lead | default('sales@acme.com') }}"),
    ] {
        assert_eq!(placeholder(&ok), None, "{ok}");
    }
    assert_eq!(
        placeholder(&json!("product team")).as_deref(),
        Some("product team")
    );
}

#[test]
fn a_role_may_declare_its_own_kind_but_not_shadow_a_built_in_one() {
    let r = ActionRegistry::builtin();
    let own = CustomAction {
        kind: "acme.open_ticket".into(),
        summary: String::new(),
        params: vec![Param::required("title", ParamType::Text)],
        side_effect: true,
    };
    let (with, errors) = r.with_custom(std::slice::from_ref(&own));
    assert!(errors.is_empty(), "{errors:?}");
    let f = with.check_step("acme.open_ticket", &step(&[]));
    assert!(f.iter().any(|f| f.contains("needs `title`")), "{f:?}");
    assert!(
        f.iter()
            .any(|f| f.starts_with("no driver") && f.contains("the role's own action")),
        "{f:?}"
    );
    let shadow = CustomAction {
        kind: "email.send".into(),
        ..own
    };
    let (_, errs) = r.with_custom(&[shadow]);
    assert!(errs[0].1.contains("built-in"), "{errs:?}");
}
