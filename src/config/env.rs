//! `EMPLA_*` environment overrides of node keys.
//!
//! `EMPLA_<SECTION>__<KEY>` sets `<section>.<key>` (e.g. `EMPLA_RUNTIME__MAX_RESTARTS=9`),
//! for every key of every section, optional ones (unset by default, such as
//! `memory.embeddings_url`) included; a few common keys have short names
//! (`EMPLA_DATA_DIR`, `EMPLA_LISTEN`, `EMPLA_STORE_URL`, `EMPLA_API_TOKEN`,
//! `EMPLA_TENANT`, `EMPLA_COMPANY_DOMAIN`).
//!
//! The config type itself says what a key is: an override is tried as the raw text (a
//! string key takes it verbatim), then as a TOML value (`9`, `true`, `["mon", "tue"]`,
//! an inline table), each time by deserialising a config holding only that key. So no
//! list of keys is kept here that could drift from the sections, and an override naming
//! no key is still an error naming the variable: a typo never goes unnoticed. This
//! module never reads the process environment itself except in [`vars`].

use super::ConfigError;
use serde::de::DeserializeOwned;

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

/// The `(section, key)` an environment variable overrides, if it is an override at all
/// (`EMPLA_TEST_POSTGRES_URL`, say, is not).
fn target(name: &str) -> Option<(String, String)> {
    if let Some((_, s, k)) = SHORT.iter().find(|(n, _, _)| *n == name) {
        return Some((s.to_string(), k.to_string()));
    }
    let (s, k) = name.strip_prefix("EMPLA_")?.split_once("__")?;
    Some((s.to_ascii_lowercase(), k.to_ascii_lowercase()))
}

/// Applies overrides from `vars` to `value`, the parsed file of config type `C`; answers
/// every override that names no key of `C` or whose value does not fit its key.
pub(crate) fn apply_overrides<C: DeserializeOwned>(
    value: &mut toml::Value,
    vars: &[(String, String)],
) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (name, raw) in vars {
        let Some((section, key)) = target(name) else {
            continue;
        };
        let parsed = match typed::<C>(&section, &key, raw) {
            Ok(v) => v,
            Err(Refused::NoSuchKey) => {
                errors.push(ConfigError::new(
                    "environment",
                    format!("{section}.{key}"),
                    format!("is not a node config key, so {name} cannot set it; see config/empla.toml for the keys"),
                ));
                continue;
            }
            Err(Refused::Invalid(why)) => {
                errors.push(ConfigError::new(
                    "environment",
                    format!("{section}.{key}"),
                    format!("cannot be set to {name}={raw:?}: {why}"),
                ));
                continue;
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

/// Why an override was refused.
enum Refused {
    /// `section.key` is not a key of the config.
    NoSuchKey,
    /// The value fits the key in no form; serde's words for why.
    Invalid(String),
}

/// `raw` as the TOML value `section.key` of `C` takes: the text itself, else the text
/// read as a TOML value.
fn typed<C: DeserializeOwned>(section: &str, key: &str, raw: &str) -> Result<toml::Value, Refused> {
    let as_text = toml::Value::String(raw.to_string());
    let first_error = match fits::<C>(section, key, &as_text) {
        Ok(()) => return Ok(as_text),
        Err(e) => e,
    };
    let Ok(mut doc) = toml::from_str::<toml::Table>(&format!("v = {raw}")) else {
        return Err(first_error);
    };
    let as_toml = doc.remove("v").expect("a parsed `v = …` holds v");
    fits::<C>(section, key, &as_toml).map(|()| as_toml)
}

/// Whether a `C` holding only `section.key = value` deserialises.
fn fits<C: DeserializeOwned>(section: &str, key: &str, value: &toml::Value) -> Result<(), Refused> {
    let mut sect = toml::Table::new();
    sect.insert(key.to_string(), value.clone());
    let mut doc = toml::Table::new();
    doc.insert(section.to_string(), toml::Value::Table(sect));
    match super::from_value::<C>(toml::Value::Table(doc)) {
        Ok(_) => Ok(()),
        // Unknown as a key of the section, or as a section: not a key. (An unknown field
        // deeper down, inside an inline table given as the value, is a bad value.)
        Err((at, message))
            if message.starts_with("unknown field")
                && (at == section || at == format!("{section}.{key}")) =>
        {
            Err(Refused::NoSuchKey)
        }
        Err((_, message)) => Err(Refused::Invalid(message)),
    }
}
