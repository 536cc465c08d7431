//! The persona's communication style as templates see it (`style.greeting`,
//! `style.signoff`, `style.tone`, ...), moved by feedback ("too formal").

use crate::model::{Formality, Persona, Verbosity};
use serde_json::{Value, json};

const FORMALITY: [Formality; 5] = [
    Formality::Informal,
    Formality::ProfessionalCasual,
    Formality::Neutral,
    Formality::ProfessionalFriendly,
    Formality::Formal,
];
const VERBOSITY: [Verbosity; 3] = [Verbosity::Concise, Verbosity::Balanced, Verbosity::Detailed];

/// The style after `shift` steps of (formality, verbosity) from the persona's own.
pub(crate) fn style(p: &Persona, shift: (i8, i8)) -> Value {
    let c = &p.communication;
    let step =
        |i: usize, by: i8, len: usize| (i as i64 + by as i64).clamp(0, len as i64 - 1) as usize;
    let fi = FORMALITY
        .iter()
        .position(|f| *f == c.formality)
        .unwrap_or(2);
    let vi = VERBOSITY
        .iter()
        .position(|v| *v == c.verbosity)
        .unwrap_or(1);
    let formality = FORMALITY[step(fi, shift.0, FORMALITY.len())];
    let verbosity = VERBOSITY[step(vi, shift.1, VERBOSITY.len())];
    let (greeting, signoff) = match formality {
        Formality::Formal => ("Dear", "Kind regards"),
        Formality::ProfessionalFriendly => ("Hello", "Best regards"),
        Formality::Neutral => ("Hello", "Regards"),
        Formality::ProfessionalCasual => ("Hi", "Best"),
        Formality::Informal => ("Hey", "Cheers"),
    };
    json!({
        "tone": c.tone,
        "formality": formality,
        "verbosity": verbosity,
        "emoji_usage": c.emoji_usage,
        "greeting": greeting,
        "signoff": signoff,
    })
}
