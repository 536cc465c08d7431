//! `[documents]`: what employees put in the documents they write — the price list a
//! quote is priced from, the currency and terms, where operators keep their templates —
//! and the fonts PDFs are set in.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[documents]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentsConfig {
    /// Templates directory, relative to the node file: a `proposal.md.j2`, `qbr.md.j2`
    /// or `report.md.j2` there replaces the built-in template of that name.
    pub templates_dir: PathBuf,
    /// Directory holding DejaVu Sans (`DejaVuSans.ttf`, `DejaVuSans-Bold.ttf`,
    /// `DejaVuSans-Oblique.ttf`, `DejaVuSans-BoldOblique.ttf`; Debian's
    /// `fonts-dejavu-core`), embedded in PDFs whose text goes beyond Latin-1.
    pub font_dir: PathBuf,
    /// Directory holding Liberation Sans (`LiberationSans-Regular.ttf`, `-Bold`,
    /// `-Italic`, `-BoldItalic`; Debian's `fonts-liberation2`): PDFs whose text is all
    /// Latin-1 are set in the PDF standard Helvetica, measured with it, and embed no
    /// font. Without it every PDF embeds DejaVu Sans.
    pub standard_font_dir: PathBuf,
    /// ISO currency code of the price list, e.g. `USD`.
    pub currency: String,
    /// Terms printed on every quote.
    pub terms: String,
    /// Days a quote stays valid.
    pub valid_days: u32,
    /// `[documents.price_list.ID]`: what can be quoted.
    pub price_list: BTreeMap<String, PriceItem>,
}

/// One line of the price list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceItem {
    /// Name on the quote, e.g. "empla Business".
    pub name: String,
    /// What one unit is, singular: "seat". A request for "40 seats" is read as 40 of it.
    pub unit: String,
    /// Other words for a unit in a request, singular: ["user", "license"].
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Price of one unit, in the list's currency.
    pub unit_price: f64,
    /// What the price covers, e.g. "per seat per year"; printed beside it.
    #[serde(default)]
    pub period: String,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        Self {
            templates_dir: PathBuf::from("documents"),
            font_dir: PathBuf::from("/usr/share/fonts/truetype/dejavu"),
            standard_font_dir: PathBuf::from("/usr/share/fonts/truetype/liberation2"),
            currency: "USD".into(),
            terms: "Prices are per year, billed annually in advance. Payment within 30 days of invoice.".into(),
            valid_days: 30,
            price_list: [
                (
                    "business",
                    PriceItem {
                        name: "empla Business".into(),
                        unit: "seat".into(),
                        aliases: vec!["user".into(), "license".into(), "licence".into()],
                        unit_price: 480.0,
                        period: "per seat per year".into(),
                    },
                ),
                (
                    "onboarding",
                    PriceItem {
                        name: "Guided onboarding".into(),
                        unit: "onboarding package".into(),
                        aliases: vec!["onboarding".into()],
                        unit_price: 2500.0,
                        period: "one-off".into(),
                    },
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }
    }
}

impl DocumentsConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            e.push(ConfigError::new(
                file,
                "documents.currency",
                format!(
                    "must be an ISO currency code such as \"USD\", got {:?}",
                    self.currency
                ),
            ));
        }
        if self.valid_days == 0 {
            e.push(ConfigError::new(
                file,
                "documents.valid_days",
                "must be at least 1 (days a quote stays valid)",
            ));
        }
        let mut words: BTreeMap<String, &str> = BTreeMap::new();
        for (id, item) in &self.price_list {
            let key = format!("documents.price_list.{id}");
            if item.name.trim().is_empty() {
                e.push(ConfigError::new(file, &key, "`name` must not be empty"));
            }
            if !(item.unit_price.is_finite() && item.unit_price >= 0.0) {
                e.push(ConfigError::new(
                    file,
                    &key,
                    format!(
                        "`unit_price` must be a price of 0 or more, got {}",
                        item.unit_price
                    ),
                ));
            }
            for w in std::iter::once(&item.unit).chain(&item.aliases) {
                let w = w.trim().to_lowercase();
                if w.is_empty() {
                    e.push(ConfigError::new(
                        file,
                        &key,
                        "`unit` and `aliases` must not be empty",
                    ));
                } else if let Some(other) = words.insert(w.clone(), id) {
                    e.push(ConfigError::new(
                        file,
                        &key,
                        format!(
                            "the word {w:?} also names a unit of `{other}`; a request for it would be ambiguous"
                        ),
                    ));
                }
            }
        }
    }
}
