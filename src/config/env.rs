//! `EMPLA_*` environment overrides of node keys.
//!
//! `EMPLA_<SECTION>__<KEY>` sets `<section>.<key>` (e.g. `EMPLA_RUNTIME__MAX_RESTARTS=9`);
//! a few common keys have short names (`EMPLA_DATA_DIR`, `EMPLA_LISTEN`,
//! `EMPLA_STORE_URL`, `EMPLA_API_TOKEN`, `EMPLA_TENANT`, `EMPLA_COMPANY_DOMAIN`).
//! An override naming no known key is an error, so a typo never goes unnoticed.

use super::ConfigError;

/// Short names for the keys operators set most.
const SHORT: &[(&str, &str, &str)] = &[
    ("EMPLA_DATA_DIR", "node", "data_dir"),
    ("EMPLA_LISTEN", "node", "listen"),
    ("EMPLA_API_TOKEN", "node", "api_token"),
    ("EMPLA_TENANT", "node", "tenant"),
    ("EMPLA_COMPANY_DOMAIN", "node", "company_domain"),
    ("EMPLA_STORE_URL", "store", "url"),
];

/// The process environment as pairs.
pub(crate) fn vars() -> Vec<(String, String)> {
    std::env::vars().collect()
}

/// Applies overrides from `vars` to `value`; `defaults` gives each key's type.
pub(crate) fn apply_overrides(
    value: &mut toml::Value,
    defaults: &toml::Value,
    vars: &[(String, String)],
) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (name, raw) in vars {
        let (section, key) = if let Some((_, s, k)) = SHORT.iter().find(|(n, _, _)| n == name) {
            (s.to_string(), k.to_string())
        } else if let Some(rest) = name.strip_prefix("EMPLA_") {
            match rest.split_once("__") {
                Some((s, k)) => (s.to_ascii_lowercase(), k.to_ascii_lowercase()),
                None => continue, // not a key override (e.g. EMPLA_TEST_POSTGRES_URL)
            }
        } else {
            continue;
        };
        let Some(default) = defaults.get(&section).and_then(|s| s.get(&key)) else {
            errors.push(ConfigError::new(
                "environment",
                format!("{section}.{key}"),
                format!("is not a node config key, so {name} cannot set it; see config/empla.toml for the keys"),
            ));
            continue;
        };
        let parsed = if default.is_str() {
            toml::Value::String(raw.clone())
        } else {
            match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
                Ok(mut t) => t.remove("v").expect("parsed table has v"),
                Err(_) => {
                    errors.push(ConfigError::new(
                        "environment",
                        format!("{section}.{key}"),
                        format!("{name}={raw:?} is not a valid {}", default.type_str()),
                    ));
                    continue;
                }
            }
        };
        let table = value.as_table_mut().expect("node config is a table");
        let sect = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(Default::default()));
        if let Some(t) = sect.as_table_mut() {
            t.insert(key, parsed);
        }
    }
    errors
}
