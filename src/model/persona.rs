//! The persona: who the employee is. Big Five traits, how it writes, how it decides, how
//! it behaves (seed 1.5). Every numeric trait lies in 0..=1.

use super::{FieldError, check_unit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A consistent personality that shapes choices and every text the employee writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Big Five personality traits.
    pub personality: BigFive,
    /// How the employee writes.
    pub communication: CommunicationStyle,
    /// How the employee decides.
    pub decision: DecisionStyle,
    /// How the employee works.
    pub behavior: BehavioralTraits,
}

/// Big Five traits, each 0..=1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BigFive {
    /// Innovation (1) versus tradition (0).
    pub openness: f64,
    /// Organised (1) versus spontaneous (0).
    pub conscientiousness: f64,
    /// Outgoing (1) versus reserved (0).
    pub extraversion: f64,
    /// Cooperative (1) versus competitive (0).
    pub agreeableness: f64,
    /// Anxious (1) versus calm (0).
    pub neuroticism: f64,
}

/// Overall tone of what the employee writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Tone {
    Professional,
    Casual,
    Enthusiastic,
    Supportive,
    Analytical,
}

/// How formal the employee's writing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Formality {
    Formal,
    ProfessionalFriendly,
    ProfessionalCasual,
    Neutral,
    Informal,
}

/// How much the employee writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Verbosity {
    Concise,
    Balanced,
    Detailed,
}

/// How often the employee uses emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum EmojiUsage {
    Never,
    Rare,
    Frequent,
}

/// Communication style.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationStyle {
    /// Overall tone.
    pub tone: Tone,
    /// Formality.
    pub formality: Formality,
    /// Length and detail.
    pub verbosity: Verbosity,
    /// Emoji use.
    pub emoji_usage: EmojiUsage,
}

/// Decision-making style, each 0..=1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionStyle {
    /// Conservative (0) to aggressive (1).
    pub risk_tolerance: f64,
    /// Deliberate (0) to quick (1).
    pub decision_speed: f64,
    /// Data-driven (0) to intuitive (1).
    pub data_vs_intuition: f64,
    /// Independent (0) to consensus-seeking (1).
    pub collaborative_level: f64,
}

/// Behavioural traits, each 0..=1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BehavioralTraits {
    /// Reactive (0) to proactive (1).
    pub proactivity_level: f64,
    /// Gives up (0) to persistent (1).
    pub persistence: f64,
    /// Slow (0) to quick (1) to adapt to change.
    pub adaptability: f64,
    /// Big picture (0) to detail-oriented (1).
    pub attention_to_detail: f64,
}

impl Persona {
    /// Every trait outside 0..=1, as errors naming the field under `persona.`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let p = &self.personality;
        for (name, v) in [
            ("openness", p.openness),
            ("conscientiousness", p.conscientiousness),
            ("extraversion", p.extraversion),
            ("agreeableness", p.agreeableness),
            ("neuroticism", p.neuroticism),
        ] {
            check_unit(&mut e, &format!("persona.personality.{name}"), v);
        }
        let d = &self.decision;
        for (name, v) in [
            ("risk_tolerance", d.risk_tolerance),
            ("decision_speed", d.decision_speed),
            ("data_vs_intuition", d.data_vs_intuition),
            ("collaborative_level", d.collaborative_level),
        ] {
            check_unit(&mut e, &format!("persona.decision.{name}"), v);
        }
        let b = &self.behavior;
        for (name, v) in [
            ("proactivity_level", b.proactivity_level),
            ("persistence", b.persistence),
            ("adaptability", b.adaptability),
            ("attention_to_detail", b.attention_to_detail),
        ] {
            check_unit(&mut e, &format!("persona.behavior.{name}"), v);
        }
        e
    }
}

#[cfg(test)]
pub(crate) fn sample() -> Persona {
    Persona {
        personality: BigFive {
            openness: 0.7,
            conscientiousness: 0.8,
            extraversion: 0.9,
            agreeableness: 0.6,
            neuroticism: 0.3,
        },
        communication: CommunicationStyle {
            tone: Tone::Enthusiastic,
            formality: Formality::ProfessionalCasual,
            verbosity: Verbosity::Balanced,
            emoji_usage: EmojiUsage::Rare,
        },
        decision: DecisionStyle {
            risk_tolerance: 0.7,
            decision_speed: 0.8,
            data_vs_intuition: 0.6,
            collaborative_level: 0.5,
        },
        behavior: BehavioralTraits {
            proactivity_level: 0.9,
            persistence: 0.8,
            adaptability: 0.7,
            attention_to_detail: 0.6,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trait_outside_zero_to_one_is_named_in_the_error() {
        let mut p = sample();
        p.personality.openness = 1.7;
        p.decision.risk_tolerance = -0.1;
        let errors = p.validate();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "persona.personality.openness");
        assert!(errors[0].message.contains("1.7"), "{}", errors[0].message);
        assert_eq!(errors[1].field, "persona.decision.risk_tolerance");
    }

    #[test]
    fn a_valid_persona_has_no_errors() {
        assert!(sample().validate().is_empty());
    }
}
