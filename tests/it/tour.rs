//! README's five-minute tour, run as a newcomer would: the node started with `node`
//! from a clone's directory on the embedded default, then every command of the tour,
//! in order, exactly as README.md writes it (read from the file), through bash — the
//! `cargo run --release --` prefix runs the built binary, and `localhost:7700` is the
//! test node's address. Each command's output is checked against what the README says
//! it shows; a command the README adds or changes without a check here fails the test.

use super::common::repo;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The tour's commands, in order: lines indented four spaces under "A five-minute
/// tour", continuation lines joined.
fn tour_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("## A five-minute tour")
        .expect("README has the tour");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in section[..end].lines() {
        let Some(code) = line.strip_prefix("    ") else {
            continue;
        };
        let code = code.trim();
        if code.starts_with('#') {
            continue;
        }
        match code.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(code);
                commands.push(std::mem::take(&mut current));
            }
        }
    }
    commands
}

/// The node as README starts it (`node`, run from the clone's directory), here in a
/// directory holding links to the clone's `config/` and `docs/`, on a free port.
struct Tour {
    node: Child,
    dir: tempfile::TempDir,
    addr: String,
}

impl Tour {
    fn start() -> Tour {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        for d in ["config", "docs"] {
            std::os::unix::fs::symlink(repo().join(d), dir.path().join(d)).unwrap();
        }
        let mut node = Command::new(env!("CARGO_BIN_EXE_empla"))
            .arg("node")
            .current_dir(dir.path())
            .env("EMPLA_LISTEN", "127.0.0.1:0")
            .env_remove("EMPLA_API_TOKEN")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(node.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("the node printed its address").unwrap();
            if let Some(a) = line.strip_prefix("empla node listening on ") {
                break a.trim().trim_start_matches("http://").to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Tour { node, dir, addr }
    }

    /// Runs one README line through bash from the clone's directory; answers whether it
    /// succeeded and what it printed.
    fn run(&self, assignments: &[String], command: &str) -> (bool, String) {
        let script = format!(
            "cargo() {{ [ \"$1 $2 $3\" = 'run --release --' ] || {{ echo \"not the tour's cargo call: $*\" >&2; return 2; }}; shift 3; \"$EMPLA_BIN\" \"$@\"; }}\n\
             curl() {{ command curl --max-time 20 \"${{@//localhost:7700/$EMPLA_ADDR}}\"; }}\n\
             set -o pipefail\n{}\n{command}\n",
            assignments.join("\n")
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path())
            .env("EMPLA_BIN", env!("CARGO_BIN_EXE_empla"))
            .env("EMPLA_ADDR", &self.addr)
            .env("EMPLA_NODE", format!("http://{}", self.addr))
            .env_remove("EMPLA_API_TOKEN")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

impl Drop for Tour {
    fn drop(&mut self) {
        let _ = self.node.kill();
        let _ = self.node.wait();
    }
}

/// What a command must show: all of these, within a few seconds (the employee thinks
/// after the command returns).
struct Shows {
    command: &'static str,
    all: &'static [&'static str],
    none: &'static [&'static str],
    /// Whether running it again changes nothing (a look, not an act): only then is it
    /// retried until its output shows what it should.
    look: bool,
}

/// A command that looks: retried until it shows `all`.
const fn shows(command: &'static str, all: &'static [&'static str]) -> Shows {
    Shows {
        command,
        all,
        none: &[],
        look: true,
    }
}

/// A command that acts: run once, and it must show `all` at once.
const fn acts(command: &'static str, all: &'static [&'static str]) -> Shows {
    Shows {
        command,
        all,
        none: &[],
        look: false,
    }
}

/// The tour in order: each README command (by how it starts, after `cargo run --release
/// --`), and what the README says it shows.
const TOUR: &[Shows] = &[
    shows(
        "list",
        &["jordan.lee", "Jordan Lee", "sam.rivera", "casey.kim"],
    ),
    acts(
        "hire --role sales_ae --name \"Riley Quinn\"",
        &["riley.quinn"],
    ),
    acts("mail send --from \"Sarah Chen", &["sent"]),
    shows("episodes riley.quinn", &["email.received", "quote"]),
    acts(
        "chat riley.quinn \"What are you working on?\"",
        &["I'm working on", "shadow phase"],
    ),
    shows(
        "show riley.quinn",
        &[
            "Riley Quinn",
            "Sales Account Executive",
            "quarterly_revenue",
        ],
    ),
    acts("phase riley.quinn assisted", &["assisted"]),
    acts("send-event riley.quinn --kind metric", &["accepted"]),
    shows(
        "status riley.quinn",
        &["assisted", "reach_out_to_lead", "pending approval"],
    ),
    shows("approvals", &["email.send", "ivy.chen@cobalt.example"]),
    acts("approve <ID>", &["approved email.send"]),
    shows(
        "mail inbox ivy.chen@cobalt.example",
        &["Riley Quinn", "Hi Ivy", "Cobalt Security"],
    ),
    shows(
        "episodes riley.quinn",
        &["email.send", "empla.outcome", "wait email.reply"],
    ),
    acts("TOKEN=$(cat data/api-token)", &[]),
    shows(
        "curl -s -H \"Authorization: Bearer $TOKEN\" localhost:7700/api/v1/employees",
        &["\"chat_handle\":\"riley.quinn\""],
    ),
    acts(
        "curl -s -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json'",
        &["\"event_id\""],
    ),
    Shows {
        command: "curl -s -H \"Authorization: Bearer $TOKEN\" \"localhost:7700/api/v1/employees/jordan.lee/chat?conversation=api\"",
        all: &["\"conversation\":\"api\"", "I'm Jordan Lee"],
        none: &["needs `conversation`"],
        look: true,
    },
    shows(
        "curl -s -H \"Authorization: Bearer $TOKEN\" \"localhost:7700/api/v1/employees/jordan.lee/episodes",
        &["chat.message", "chat.reply"],
    ),
    shows(
        "curl -s localhost:7700/metrics",
        &[
            "# HELP empla_events_accepted_total",
            "empla_actor_restarts_total",
        ],
    ),
    acts("knowledge ingest docs/examples/knowledge", &["company.md"]),
    shows(
        "recall riley.quinn \"what did Sarah ask about pricing?\"",
        &["Pricing for 40 seats"],
    ),
    shows(
        "recall riley.quinn --with sarah@acme.com --since \"last week\"",
        &["email.received", "A quote?", "sarah@acme.com"],
    ),
    shows(
        "facts riley.quinn \"Northwind Traders\"",
        &["Northwind Traders"],
    ),
    shows("calendar slots --attendee riley.quinn", &["score"]),
    acts(
        "calendar book riley.quinn --title \"Pricing call\"",
        &["Pricing call"],
    ),
    shows("calendar show sarah@acme.com", &["Pricing call"]),
    shows("mail inbox sarah@acme.com", &["Invitation: Pricing call"]),
    acts(
        "forget \"Sarah Chen <sarah@acme.com>\" --yes",
        &["forgot Sarah Chen", "mail messages"],
    ),
    Shows {
        command: "mail inbox sarah@acme.com",
        all: &[],
        none: &["Pricing", "Sarah"],
        look: true,
    },
];

/// The id of the approval whose entry names `who` in `empla approvals`' output.
fn approval_naming(listed: &str, who: &str) -> String {
    let mut id = None;
    for line in listed.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            id = line.split_whitespace().next().map(str::to_string);
        }
        if line.contains(who) {
            return id.expect("an approval line comes first");
        }
    }
    panic!("no approval names {who}:\n{listed}")
}

#[test]
fn readme_tour_runs_and_shows_what_it_says() {
    let commands = tour_commands();
    let tour = Tour::start();
    let cli = "cargo run --release -- ";
    assert_eq!(
        commands.len(),
        TOUR.len(),
        "README's tour has {} commands and this test checks {}: keep them in step:\n{commands:#?}",
        commands.len(),
        TOUR.len()
    );
    let mut assignments = Vec::new();
    let mut approvals = String::new();
    for (command, expect) in commands.iter().zip(TOUR) {
        let bare = command.strip_prefix(cli).unwrap_or(command);
        assert!(
            bare.starts_with(expect.command),
            "README's tour runs `{command}` where this test expects `{}`",
            expect.command
        );
        let mut line = command.clone();
        if line.contains("<ID>") {
            line = line.replace(
                "<ID>",
                &approval_naming(&approvals, "ivy.chen@cobalt.example"),
            );
        }
        if line.starts_with("TOKEN=") {
            assignments.push(line.clone());
            assert!(tour.run(&assignments, "test -n \"$TOKEN\"").0, "{line}");
            continue;
        }
        // The employee thinks after a command returns: a check may take a few tries.
        let mut tries = 0;
        let out = loop {
            let (ok, out) = tour.run(&assignments, &line);
            let shown = ok
                && expect.all.iter().all(|s| out.contains(s))
                && !expect.none.iter().any(|s| out.contains(s));
            if shown {
                break out;
            }
            tries += 1;
            assert!(
                expect.look && tries < 60,
                "`{line}` should show {:?} and none of {:?}; it printed:\n{out}",
                expect.all,
                expect.none
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        };
        if bare.starts_with("approvals") {
            approvals = out;
        }
    }
    assert!(Path::new(&tour.dir.path().join("data/empla.db")).exists());
}
