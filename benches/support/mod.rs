//! What the benchmarks share: a node's options on a SQLite file, with default settings,
//! and the role templates shipped in `config/`.

use empla::config::{Config, RoleTemplate, RuntimeConfig, StoreConfig};
use empla::model::TenantId;
use empla::node::NodeOptions;
use std::collections::BTreeMap;
use std::path::Path;

/// The benchmark's two numeric arguments (`cargo bench --bench X -- A B`), each
/// `default` when not given; both must be above 0, as `names` says.
#[allow(dead_code)] // not every benchmark takes two numbers
pub fn two_numbers(defaults: (usize, usize), names: &str) -> anyhow::Result<(usize, usize)> {
    use anyhow::Context;
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let number = |i: usize, default: usize| -> anyhow::Result<usize> {
        args.get(i)
            .map(|a| a.parse().with_context(|| format!("not a number: {a}")))
            .unwrap_or(Ok(default))
    };
    let got = (number(0, defaults.0)?, number(1, defaults.1)?);
    anyhow::ensure!(got.0 > 0 && got.1 > 0, "{names} must be above 0");
    Ok(got)
}

/// The role templates shipped in `config/`.
#[allow(dead_code)] // not every benchmark hires from them
pub fn shipped_roles() -> anyhow::Result<BTreeMap<String, RoleTemplate>> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml"));
    Ok(Config::load(path, &[])
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .roles)
}

/// A node of tenant `bench` at `example.com` with `roles` and default settings, its
/// store the SQLite file `db` in `dir` (also its data directory).
#[allow(dead_code)] // the cluster benchmark runs nodes as processes
pub fn options(dir: &Path, db: &str, roles: BTreeMap<String, RoleTemplate>) -> NodeOptions {
    NodeOptions {
        cluster: Default::default(),
        tenant: TenantId::new("bench"),
        company_domain: "example.com".into(),
        store_url: format!("sqlite://{}", dir.join(db).display()),
        store: StoreConfig::default(),
        runtime: RuntimeConfig::default(),
        memory: Default::default(),
        mail: Default::default(),
        calendar: Default::default(),
        chat: Default::default(),
        crm: Default::default(),
        documents: Default::default(),
        research: Default::default(),
        llm: Default::default(),
        mcp: Default::default(),
        a2a: Default::default(),
        templates_dir: None,
        data_dir: dir.to_path_buf(),
        roles,
        demo_employees: Vec::new(),
        demo_crm: None,
        teams: Default::default(),
        oauth: Default::default(),
    }
}
