//! Pricing a quote: lines from the price list × quantities — named in the action, or
//! read from the customer's own words ("a quote for 40 seats?") — less a discount, in
//! whole cents so the totals on the page add up exactly.

use super::config::{DocumentsConfig, PriceItem};
use serde::Serialize;
use serde_json::Value as Json;

/// One priced line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The price list id.
    pub item: String,
    /// Name on the quote.
    pub name: String,
    /// Units quoted.
    pub quantity: u64,
    /// Unit, plural when the quantity is.
    pub unit: String,
    /// What the price covers.
    pub period: String,
    /// Price of one unit, in cents.
    pub unit_cents: i64,
    /// quantity × unit price, in cents.
    pub amount_cents: i64,
}

/// A priced quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// Its lines, in the order asked.
    pub lines: Vec<Line>,
    /// Sum of the lines, in cents.
    pub subtotal_cents: i64,
    /// Discount, in percent (0 at list price).
    pub discount_percent: f64,
    /// The discount, in cents.
    pub discount_cents: i64,
    /// What the customer pays, in cents.
    pub total_cents: i64,
    /// ISO currency code.
    pub currency: String,
}

impl Quote {
    /// The total in the currency's units (what the deal's amount becomes).
    pub fn total(&self) -> f64 {
        self.total_cents as f64 / 100.0
    }
}

/// Prices `asked` (price list id → quantity, in order) less `discount` percent.
pub fn price(
    cfg: &DocumentsConfig,
    asked: &[(String, u64)],
    discount: f64,
) -> Result<Quote, String> {
    if asked.is_empty() {
        return Err("the quote has no lines".into());
    }
    if !(0.0..100.0).contains(&discount) {
        return Err(format!(
            "`discount` is a percentage from 0 to under 100, got {discount}"
        ));
    }
    let mut lines = Vec::with_capacity(asked.len());
    for (id, quantity) in asked {
        let item = cfg.price_list.get(id).ok_or_else(|| {
            format!(
                "{id:?} is not on the price list; it has: {}",
                cfg.price_list
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if *quantity == 0 {
            return Err(format!("the quantity of {id:?} must be at least 1"));
        }
        let unit_cents = (item.unit_price * 100.0).round() as i64;
        lines.push(Line {
            item: id.clone(),
            name: item.name.clone(),
            quantity: *quantity,
            unit: if *quantity == 1 {
                item.unit.clone()
            } else {
                plural(&item.unit)
            },
            period: item.period.clone(),
            unit_cents,
            amount_cents: unit_cents.saturating_mul(*quantity as i64),
        });
    }
    let subtotal_cents: i64 = lines.iter().map(|l| l.amount_cents).sum();
    let discount_cents = (subtotal_cents as f64 * discount / 100.0).round() as i64;
    Ok(Quote {
        lines,
        subtotal_cents,
        discount_percent: discount,
        discount_cents,
        total_cents: subtotal_cents - discount_cents,
        currency: cfg.currency.clone(),
    })
}

/// The lines an action asks for: `items` (`[{item, quantity}]`), or `item` with
/// `quantity`, or else the quantities a customer named in `request` ("40 seats and
/// onboarding"), each matched to the price list by its unit or an alias.
pub fn asked(cfg: &DocumentsConfig, params: &Json) -> Result<Vec<(String, u64)>, String> {
    if let Some(items) = params["items"].as_array() {
        return items
            .iter()
            .map(|i| {
                let id = i["item"]
                    .as_str()
                    .ok_or_else(|| "each of `items` needs `item`, a price list id".to_string())?;
                let q = quantity(&i["quantity"])
                    .ok_or_else(|| format!("the `quantity` of {id:?} must be a whole number"))?;
                Ok((id.to_string(), q))
            })
            .collect();
    }
    if let Some(id) = crate::capabilities::param(params, "item") {
        let q = quantity(&params["quantity"])
            .ok_or_else(|| "`quantity` must be a whole number".to_string())?;
        return Ok(vec![(id.to_string(), q)]);
    }
    let Some(text) = crate::capabilities::param(params, "request") else {
        return Err(
            "name what to quote: `items` ([{item, quantity}]), `item` with `quantity`, or `request` (the customer's words)"
                .into(),
        );
    };
    let found = read_request(cfg, text);
    if found.is_empty() {
        return Err(format!(
            "the request names no quantity of anything on the price list (such as \"40 {}\"); ask the customer how many",
            cfg.price_list
                .values()
                .next()
                .map(|i| plural(&i.unit))
                .unwrap_or_else(|| "seats".into())
        ));
    }
    Ok(found)
}

/// What a request asks for, as plans see it: `items` (`[{item, quantity}]`) and a
/// `summary` ("40 seats and 1 onboarding package").
pub fn described(cfg: &DocumentsConfig, asked: &[(String, u64)]) -> Json {
    let words: Vec<String> = asked
        .iter()
        .map(|(id, n)| {
            let unit = cfg
                .price_list
                .get(id)
                .map_or(id.as_str(), |i| i.unit.as_str());
            format!(
                "{n} {}",
                if *n == 1 {
                    unit.to_string()
                } else {
                    plural(unit)
                }
            )
        })
        .collect();
    let summary = match words.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    serde_json::json!({
        "items": asked.iter().map(|(id, n)| serde_json::json!({"item": id, "quantity": n})).collect::<Vec<_>>(),
        "summary": summary,
    })
}

/// A whole number from a JSON number or a numeric string.
fn quantity(v: &Json) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_str()
            .and_then(|s| s.trim().replace(',', "").parse().ok())
    })
}

/// Quantities named in `text`: "40 seats", "1,200 users", "40 more licenses"; a unit
/// named with no number ("and onboarding") counts once. Each price list item once, in
/// the order first named.
pub fn read_request(cfg: &DocumentsConfig, text: &str) -> Vec<(String, u64)> {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == ','))
        .flat_map(|w| {
            // "1,200" stays one number; "seats," loses its comma.
            let w = w.trim_matches(',');
            if w.chars().all(|c| c.is_ascii_digit() || c == ',') {
                vec![w.replace(',', "")]
            } else {
                w.split(',').map(str::to_string).collect()
            }
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut named: Vec<(&str, Option<u64>)> = Vec::new();
    for i in 0..words.len() {
        let Some(id) = item_named(cfg, &words[i..]) else {
            continue;
        };
        // The number just before the unit, allowing one word between ("40 more seats").
        let number = (1..=2)
            .filter_map(|back| i.checked_sub(back))
            .find_map(|j| words[j].parse::<u64>().ok());
        match named.iter_mut().find(|(k, _)| *k == id) {
            Some((_, n)) => *n = n.or(number),
            None => named.push((id, number)),
        }
    }
    // A unit named with no number counts once, but only beside one that was counted:
    // "what do seats cost?" says nothing about how many.
    if named.iter().all(|(_, n)| n.is_none()) {
        return Vec::new();
    }
    named
        .into_iter()
        .filter(|(_, n)| *n != Some(0))
        .map(|(id, n)| (id.to_string(), n.unwrap_or(1)))
        .collect()
}

/// The price list item whose unit or alias (one or more words, singular or plural)
/// starts `words`.
fn item_named<'a>(cfg: &'a DocumentsConfig, words: &[String]) -> Option<&'a str> {
    cfg.price_list.iter().find_map(|(id, item)| {
        names(item)
            .any(|name| {
                let parts: Vec<&str> = name.split_whitespace().collect();
                parts.len() <= words.len()
                    && parts
                        .iter()
                        .zip(words)
                        .enumerate()
                        .all(|(k, (p, w))| w == p || (k == parts.len() - 1 && *w == plural(p)))
            })
            .then_some(id.as_str())
    })
}

fn names(item: &PriceItem) -> impl Iterator<Item = String> + '_ {
    std::iter::once(&item.unit)
        .chain(&item.aliases)
        .map(|s| s.trim().to_lowercase())
}

/// The plural of a unit, its last word made plural: "seat" → "seats", "onboarding
/// package" → "onboarding packages".
pub fn plural(unit: &str) -> String {
    let (head, last) = unit.rsplit_once(' ').map_or(("", unit), |(h, l)| (h, l));
    let last = if last.ends_with('s') || last.ends_with('x') || last.ends_with("ch") {
        format!("{last}es")
    } else if last.ends_with('y') && !last.ends_with("ay") && !last.ends_with("ey") {
        format!("{}ies", &last[..last.len() - 1])
    } else {
        format!("{last}s")
    };
    if head.is_empty() {
        last
    } else {
        format!("{head} {last}")
    }
}

/// `cents` as money in `currency`: `$19,200.00`, `€1,250.50`, `1,250.00 CHF`.
pub fn money(cents: i64, currency: &str) -> String {
    let whole = (cents.abs() / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let figure = format!("{grouped}.{:02}", cents.abs() % 100);
    let sign = if cents < 0 { "-" } else { "" };
    match currency {
        "USD" => format!("{sign}${figure}"),
        "EUR" => format!("{sign}€{figure}"),
        "GBP" => format!("{sign}£{figure}"),
        other => format!("{sign}{figure} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_for_seats_is_read_with_its_number() {
        let cfg = DocumentsConfig::default();
        assert_eq!(
            read_request(&cfg, "Could you send a quote for 40 seats?"),
            vec![("business".to_string(), 40)]
        );
        assert_eq!(
            read_request(&cfg, "Pricing for 1,200 users, plus onboarding."),
            vec![
                ("business".to_string(), 1200),
                ("onboarding".to_string(), 1)
            ]
        );
        assert_eq!(
            read_request(&cfg, "We need 25 more licenses"),
            vec![("business".to_string(), 25)]
        );
        assert!(read_request(&cfg, "What do seats cost?").is_empty());
        assert!(read_request(&cfg, "Can we talk on the 3rd?").is_empty());
    }

    #[test]
    fn forty_seats_at_list_price_add_up() {
        let cfg = DocumentsConfig::default();
        let q = price(&cfg, &[("business".into(), 40)], 0.0).unwrap();
        assert_eq!(q.total_cents, 40 * 48_000);
        assert_eq!(money(q.total_cents, "USD"), "$19,200.00");
        assert_eq!(q.lines[0].unit, "seats");
        let d = price(
            &cfg,
            &[("business".into(), 40), ("onboarding".into(), 1)],
            12.5,
        )
        .unwrap();
        assert_eq!(d.subtotal_cents, 1_920_000 + 250_000);
        assert_eq!(d.discount_cents, 271_250);
        assert_eq!(d.total_cents, 2_170_000 - 271_250);
        assert!(
            price(&cfg, &[("gold".into(), 1)], 0.0)
                .unwrap_err()
                .contains("not on the price list")
        );
        assert!(price(&cfg, &[("business".into(), 1)], 100.0).is_err());
    }

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(money(5, "EUR"), "€0.05");
        assert_eq!(money(100_000, "CHF"), "1,000.00 CHF");
        assert_eq!(plural("seat"), "seats");
        assert_eq!(plural("onboarding package"), "onboarding packages");
    }
}
