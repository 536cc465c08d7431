//! Configuration: the shipped files validate; each class of bad config gives an error
//! naming the file, the key and the fix.

use super::common::repo;
use empla::config::Config;
use std::path::Path;

#[test]
fn shipped_config_validates_with_five_roles_and_four_demo_employees() {
    let cfg = super::common::shipped();
    let roles: Vec<_> = cfg.roles.keys().cloned().collect();
    assert_eq!(roles, ["csm", "ea", "pm", "recruiter", "sales_ae"]);
    assert_eq!(cfg.employees.len(), 4);
    let sales = &cfg.roles["sales_ae"];
    assert_eq!(sales.persona.personality.extraversion, 0.9);
    assert!(
        sales
            .goals
            .iter()
            .any(|g| g.target == 500000.0 && g.metric == "closed_revenue_usd")
    );
    assert!(
        sales
            .goals
            .iter()
            .any(|g| g.target == 3.0 && g.metric == "pipeline_coverage")
    );
    assert_eq!(cfg.roles["csm"].persona.personality.conscientiousness, 0.9);
}

/// Copies the shipped config into a temp dir, applies `edit` to one file, loads it.
fn load_edited(
    file: &str,
    edit: impl FnOnce(String) -> String,
) -> (
    tempfile::TempDir,
    Result<Config, empla::config::ConfigErrors>,
) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["roles", "employees", "plans", "teams"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for f in std::fs::read_dir(repo().join("config").join(sub)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.path().join(sub).join(f.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(
        repo().join("config/empla.toml"),
        dir.path().join("empla.toml"),
    )
    .unwrap();
    let target = dir.path().join(file);
    let text = std::fs::read_to_string(&target).unwrap();
    std::fs::write(&target, edit(text)).unwrap();
    let r = Config::load(&dir.path().join("empla.toml"), &[]);
    (dir, r)
}

fn first_error(file: &str, edit: impl FnOnce(String) -> String) -> empla::config::ConfigError {
    let (_d, r) = load_edited(file, edit);
    let errors = r.expect_err("the edited config must be rejected");
    errors.0.into_iter().next().unwrap()
}

#[test]
fn the_shipped_api_section_states_the_defaults_and_reads_headers_within_5s() {
    let api = super::common::shipped().node.api;
    assert_eq!(api, empla::api::ApiConfig::default());
    assert!(api.header_read_timeout <= std::time::Duration::from_secs(5));
    let e = first_error("empla.toml", |t| {
        t.replace("max_connections = 1024", "max_connections = 0")
    });
    assert_eq!(e.key, "api.max_connections");
    assert!(e.message.contains("at least 1"), "{}", e.message);
}

#[test]
fn unknown_key_in_node_config_is_named() {
    let e = first_error("empla.toml", |t| t.replace("listen = ", "lisen = "));
    assert!(e.file.ends_with("empla.toml"));
    assert_eq!(e.key, "node.lisen");
    assert!(
        e.message.contains("remove it or fix its spelling"),
        "{}",
        e.message
    );
}

#[test]
fn persona_trait_out_of_range_in_a_role_names_file_and_key() {
    let e = first_error("roles/sales_ae.toml", |t| {
        t.replace("openness = 0.7", "openness = 1.7")
    });
    assert!(e.file.ends_with("roles/sales_ae.toml"), "{}", e.file);
    assert_eq!(e.key, "persona.personality.openness");
    assert!(
        e.message.contains("between 0 and 1, got 1.7"),
        "{}",
        e.message
    );
}

#[test]
fn employee_with_unknown_role_lists_the_known_roles() {
    let e = first_error("employees/jordan-lee.toml", |t| {
        t.replace("role = \"sales_ae\"", "role = \"astronaut\"")
    });
    assert!(e.file.ends_with("jordan-lee.toml"));
    assert_eq!(e.key, "role");
    assert!(
        e.message.contains("sales_ae") && e.message.contains("astronaut"),
        "{}",
        e.message
    );
}

#[test]
fn bad_cron_expression_is_named() {
    let e = first_error("roles/pm.toml", |t| {
        t.replacen("cron = \"0 9 * * 1\"", "cron = \"0 25 * * 1\"", 1)
    });
    assert!(e.key.starts_with("schedules[0].cron"), "{}", e.key);
}

#[test]
fn wrong_type_is_named_with_its_path() {
    let e = first_error("roles/csm.toml", |t| {
        t.replace("target = 0.95", "target = \"lots\"")
    });
    assert!(
        e.key.starts_with("goals[0].target") || e.key.starts_with("goals"),
        "{}",
        e.key
    );
}

#[test]
fn invalid_toml_is_reported_with_the_file() {
    let e = first_error("empla.toml", |t| format!("{t}\n[node\n"));
    assert!(e.file.ends_with("empla.toml"));
    assert!(e.message.contains("not valid TOML"), "{}", e.message);
}

#[test]
fn config_check_command_exits_nonzero_and_names_the_problem() {
    let (dir, _) = load_edited("roles/ea.toml", |t| {
        t.replace("neuroticism = 0.2", "neuroticism = -3")
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["config", "check", "--config"])
        .arg(dir.path().join("empla.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ea.toml: `persona.personality.neuroticism` must be between 0 and 1, got -3"),
        "{err}"
    );

    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["config", "check", "--config"])
        .arg(repo().join("config/empla.toml"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// `config/empla.toml` as shipped before keys could be set from the environment
/// (commit 09aa311), copied verbatim: a node file of that release loads unchanged
/// beside today's roles and employees, and (stating only defaults, as it does) gives
/// the built-in defaults.
#[test]
fn a_node_file_from_the_previous_release_loads_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["roles", "employees", "plans", "teams"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for f in std::fs::read_dir(repo().join("config").join(sub)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.path().join(sub).join(f.file_name().unwrap())).unwrap();
        }
    }
    let file = dir.path().join("empla.toml");
    std::fs::copy(repo().join("tests/fixtures/empla-09aa311.toml"), &file).unwrap();
    let cfg = Config::load(&file, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.roles.len(), 5);
    assert_eq!(cfg.employees.len(), 4);
    let settings = |c: &empla::config::NodeConfig| toml::Value::try_from(c).unwrap();
    assert_eq!(
        settings(&cfg.node),
        settings(&empla::config::NodeConfig::default())
    );
}

/// `empla config check` reads the environment as the node does: an optional key
/// (unset by default) can be set there, and a misspelt one is refused by name.
#[test]
fn config_check_takes_optional_keys_from_the_environment_and_refuses_a_typo() {
    let check = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
        cmd.args(["config", "check", "--config"])
            .arg(repo().join("config/empla.toml"))
            .env("EMPLA_MEMORY__EMBEDDER", "openai");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The openai embedder needs two keys that are unset by default.
    let (ok, err) = check(&[]);
    assert!(!ok && err.contains("memory.embeddings_url"), "{err}");
    let (ok, err) = check(&[
        ("EMPLA_MEMORY__EMBEDDINGS_URL", "http://127.0.0.1:9/v1"),
        ("EMPLA_MEMORY__DIMENSIONS", "1536"),
    ]);
    assert!(ok, "{err}");
    let (ok, err) = check(&[
        ("EMPLA_MEMORY__EMBEDINGS_URL", "http://127.0.0.1:9/v1"),
        ("EMPLA_MEMORY__DIMENSIONS", "1536"),
    ]);
    assert!(!ok, "a misspelt key must be refused");
    assert!(
        err.contains("environment: `memory.embedings_url` is not a node config key, so EMPLA_MEMORY__EMBEDINGS_URL cannot set it"),
        "{err}"
    );
}

#[test]
fn missing_config_file_says_how_to_fix() {
    let r = Config::load(Path::new("/nonexistent/empla.toml"), &[]);
    let e = r.unwrap_err();
    assert!(e.to_string().contains("--config"), "{e}");
}

#[test]
fn a_plan_with_a_bad_expression_names_file_plan_and_error() {
    let e = first_error("roles/sales_ae.toml", |t| {
        t.replace(
            "context = \"goals.pipeline_coverage.progress < 1.0\"",
            "context = \"goals.pipeline_coverage.progress <\"",
        )
    });
    assert!(e.file.ends_with("roles/sales_ae.toml"), "{}", e.file);
    assert_eq!(e.key, "plans.prospect_for_pipeline.context");
    assert!(
        e.message.contains("is not a valid CEL expression") && e.message.contains("1:"),
        "{}",
        e.message
    );
}

#[test]
fn a_plan_naming_an_unknown_contingency_is_rejected() {
    let e = first_error("roles/sales_ae.toml", |t| {
        t.replace(
            "contingency = \"ask_manager_for_leads\"",
            "contingency = \"ask_nobody\"",
        )
    });
    assert_eq!(e.key, "plans.prospect_for_pipeline.contingency");
    assert!(e.message.contains("ask_nobody"), "{}", e.message);
}

#[test]
fn a_shared_plan_file_naming_an_unknown_role_lists_the_roles() {
    let e = first_error("plans/reflection.toml", |t| {
        t.replace("roles = [\"*\"]", "roles = [\"sales_ae\", \"cfo\"]")
    });
    assert!(e.file.ends_with("plans/reflection.toml"), "{}", e.file);
    assert_eq!(e.key, "roles[1]");
    assert!(
        e.message.contains("`cfo`") && e.message.contains("sales_ae"),
        "{}",
        e.message
    );
}

#[test]
fn a_bad_expression_in_a_shared_plan_file_is_reported_in_that_file() {
    let e = first_error("plans/reflection.toml", |t| {
        t.replace(
            "when = \"event.payload.schedule == 'weekly_reflection'\"",
            "when = \"event.payload.schedule ==\"",
        )
    });
    assert!(e.file.ends_with("plans/reflection.toml"), "{}", e.file);
    assert_eq!(e.key, "plans.weekly_reflection.trigger.when");
}

#[test]
fn every_shipped_role_has_a_playbook_with_the_shared_plans() {
    let cfg = super::common::shipped();
    for (id, role) in &cfg.roles {
        let pb = role.playbook(5).unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert!(pb.plans.len() >= 3, "{id} has plans of its own");
        assert!(!pb.signals.is_empty(), "{id} has proactive triggers");
        assert!(
            pb.plans.get("weekly_reflection").is_some(),
            "{id} has the shared plans"
        );
    }
}

#[test]
fn the_shipped_sales_playbook_compiles() {
    let cfg = super::common::shipped();
    let pb = cfg.roles["sales_ae"]
        .playbook(5)
        .expect("the shipped playbook compiles");
    assert!(pb.plans.get("prospect_for_pipeline").is_some());
    assert_eq!(
        pb.plans
            .triggered_by("signal.pipeline_low")
            .map(|p| p.spec.name.as_str())
            .collect::<Vec<_>>(),
        ["prospect_for_pipeline"]
    );
}

fn config_check(config: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["config", "check", "--config"])
        .arg(config)
        .output()
        .unwrap()
}

#[test]
fn a_typo_in_an_action_kind_or_parameter_fails_config_check_naming_file_plan_step_and_fix() {
    let (dir, r) = load_edited("roles/sales_ae.toml", |t| {
        t.replace("action = \"crm.find_leads\"", "action = \"crm.find_lead\"")
            .replace(
                "subject = \"{{ event.payload.company }}: a quick idea\"",
                "subjet = \"Quick idea\"",
            )
    });
    let errors = r
        .expect_err("an unknown kind and a misspelt parameter are errors")
        .0;
    let texts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let kind = errors
        .iter()
        .find(|e| e.message.contains("`crm.find_lead`"))
        .unwrap_or_else(|| panic!("{texts:#?}"));
    assert!(kind.file.ends_with("roles/sales_ae.toml"), "{}", kind.file);
    assert_eq!(kind.key, "plans.prospect_for_pipeline.steps[0]");
    assert!(
        kind.message.contains("did you mean `crm.find_leads`"),
        "{}",
        kind.message
    );
    assert!(
        texts.iter().any(
            |t| t.contains("plans.reach_out_to_lead.steps[3]") && t.contains("needs `subject`")
        ),
        "{texts:#?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("no parameter `subjet`") && t.contains("did you mean `subject`")),
        "{texts:#?}"
    );

    let out = config_check(&dir.path().join("empla.toml"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("error: ")
            && l.contains("roles/sales_ae.toml")
            && l.contains("plans.prospect_for_pipeline.steps[0]")
            && l.contains("crm.find_lead")),
        "{err}"
    );
}

#[test]
fn the_shipped_config_checks_clean_and_a_placeholder_recipient_fails_it_on_its_own_line() {
    let out = config_check(&repo().join("config/empla.toml"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (dir, _) = load_edited("roles/sales_ae.toml", |t| {
        t.replace(
            "to = \"{{ event.payload.lead }}\"",
            "to = \"{{ event.payload.lead | default('prospects') }}\"",
        )
    });
    let out = config_check(&dir.path().join("empla.toml"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    let placeholder = errors
        .iter()
        .find(|l| l.contains("\"prospects\""))
        .unwrap_or_else(|| panic!("{stderr}"));
    // It names the role file, the plan and step, the kind, and what is wrong.
    assert!(placeholder.contains("roles/sales_ae.toml"), "{placeholder}");
    assert!(
        placeholder.contains("plans.reach_out_to_lead.steps[3]")
            && placeholder.contains("`email.send`")
            && placeholder.contains("placeholder")
            && placeholder.contains("would reach no one"),
        "{placeholder}"
    );
}

#[test]
fn a_plan_naming_the_roles_own_action_with_no_driver_fails_config_check() {
    let (dir, r) = load_edited("roles/ea.toml", |t| {
        t.replacen(
            "[[plans]]",
            "[[actions]]\nkind = \"acme.open_ticket\"\nsummary = \"Opens a helpdesk ticket\"\nparams = [{ name = \"title\", type = \"text\", required = true }]\n\n[[plans]]",
            1,
        )
        .replacen(
            "action = \"calendar.block\", params = { title = \"Focus time\", hours = 4, week = \"next\" }",
            "action = \"acme.open_ticket\", params = { title = \"Inbox backlog\" }",
            1,
        )
    });
    let errors = r.expect_err("a step no driver carries out is an error").0;
    let e = errors
        .iter()
        .find(|e| e.message.contains("`acme.open_ticket`"))
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert!(e.message.contains("no driver"), "{}", e.message);
    assert_eq!(e.key, "plans.protect_focus_time.steps[0]");
    let out = config_check(&dir.path().join("empla.toml"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("acme.open_ticket") && stderr.contains("no driver"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_node_refuses_to_start_with_a_plan_naming_an_unknown_action() {
    let mut roles = super::common::shipped().roles;
    let sales = roles.get_mut("sales_ae").unwrap();
    let step = sales
        .plans
        .iter_mut()
        .flat_map(|p| p.steps.iter_mut())
        .find(|s| s.action.as_deref() == Some("crm.find_leads"))
        .unwrap();
    step.action = Some("crm.find_lead".into());
    let dir = tempfile::tempdir().unwrap();
    let mut opts = super::common::options("refuse");
    opts.store_url = format!("sqlite://{}", dir.path().join("e.db").display());
    opts.roles = roles;
    let err = empla::node::Node::start(opts)
        .await
        .err()
        .expect("the node must refuse the role");
    let text = err.to_string();
    assert!(
        text.contains("sales_ae")
            && text.contains("crm.find_lead")
            && text.contains("did you mean"),
        "{text}"
    );
}

#[test]
fn a_plan_naming_a_team_with_no_file_fails_config_check() {
    let (dir, r) = load_edited("roles/pm.toml", |t| {
        t.replace(
            "attendees = \"team:product\"",
            "attendees = \"team:produkt\"",
        )
    });
    let errors = r.expect_err("an unknown team is an error").0;
    let e = errors
        .iter()
        .find(|e| e.message.contains("team `produkt`"))
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert!(e.file.ends_with("roles/pm.toml"), "{}", e.file);
    assert_eq!(e.key, "plans.weekly_roadmap.steps[5].params.attendees");
    assert!(
        e.message.contains("add teams/produkt.toml") && e.message.contains("product"),
        "{}",
        e.message
    );
    let out = config_check(&dir.path().join("empla.toml"));
    assert!(!out.status.success());
    // The shipped team resolves.
    let shipped = empla::config::Config::load(&repo().join("config/empla.toml"), &[]).unwrap();
    assert!(shipped.teams.contains_key("product"));
}

#[test]
fn a_role_or_an_employee_on_a_team_with_no_file_fails_config_check() {
    let (_dir, r) = load_edited("roles/csm.toml", |t| {
        t.replace("team = \"customer-success\"", "team = \"Customer Success\"")
    });
    let errors = r.expect_err("a role's unknown team is an error").0;
    let e = errors
        .iter()
        .find(|e| e.file.ends_with("roles/csm.toml") && e.key == "team")
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert!(
        e.message.contains("team `Customer Success`")
            && e.message.contains("customer-success, executive-office"),
        "{}",
        e.message
    );
    let (_dir, r) = load_edited("employees/casey-kim.toml", |t| t + "team = \"Platform\"\n");
    let errors = r.expect_err("an employee's unknown team is an error").0;
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("employees/casey-kim.toml")
                && e.key == "team"
                && e.message.contains("add teams/Platform.toml")),
        "{errors:#?}"
    );
    // Every shipped role and demo employee is on a shipped team.
    let shipped = empla::config::Config::load(&repo().join("config/empla.toml"), &[]).unwrap();
    for (id, role) in &shipped.roles {
        assert!(
            shipped.teams.contains_key(&role.team),
            "{id}: {}",
            role.team
        );
    }
}
