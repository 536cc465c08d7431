//! What Slack sends an employee's app, read without trusting it: the request signature
//! of the Events API (`X-Slack-Signature` = `v0=` + hex HMAC-SHA256 of
//! `v0:{timestamp}:{body}` keyed by the app's signing secret, refused beyond five
//! minutes from now so a captured request cannot be replayed), and the events it
//! carries (over HTTP or Socket Mode) decoded with slack-morphism's event types into
//! the one thing the node perceives: a human's message to the employee — a mention in
//! a channel or a direct message. Pure: the clock is passed in; nothing here stores,
//! answers or logs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use slack_morphism::prelude::{SlackEventCallbackBody, SlackPushEvent, SlackPushEventCallback};

/// How far a request's timestamp may be from now, in seconds (Slack's own advice).
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Longest message text perceived, in bytes; longer text is cut at a character.
pub const MAX_TEXT: usize = 16 * 1024;

/// Why a request is not believed to come from Slack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is missing or unreadable.
    #[error("the {0} header is missing; Slack signs every request, so this one is not from Slack")]
    Missing(&'static str),
    /// The timestamp is not a number of seconds.
    #[error("X-Slack-Request-Timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is too far from now: a replayed (or badly delayed) request.
    #[error(
        "X-Slack-Request-Timestamp is {0} s away from now, more than the {MAX_SKEW_SECS} s allowed: a replayed request is refused (check the node's clock if Slack's requests all fail so)"
    )]
    Stale(i64),
    /// The signature does not match the body and timestamp.
    #[error(
        "X-Slack-Signature does not match the request; check that signing_secret is this app's Signing Secret"
    )]
    Mismatch,
}

/// The signature Slack gives `body` sent at `timestamp`: `v0=<hex HMAC-SHA256>`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a request's `X-Slack-Signature` and `X-Slack-Request-Timestamp` against
/// `body`, at Unix time `now`. The comparison takes the same time wherever it differs.
pub fn verify(
    secret: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing("X-Slack-Signature"))?;
    let timestamp = timestamp.ok_or(SignatureError::Missing("X-Slack-Request-Timestamp"))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now.saturating_sub(ts).saturating_abs();
    if skew > MAX_SKEW_SECS {
        return Err(SignatureError::Stale(skew));
    }
    let given = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Mismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// How the message reached the employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `app_mention`: someone mentioned the employee's bot user in a channel.
    Mention,
    /// `message` in an `im`: a direct message to the employee.
    Direct,
}

/// A human's message to the employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    /// The app the event was for (`A…`).
    pub app_id: String,
    /// The workspace (`T…`).
    pub team_id: String,
    /// Slack's id of the event (`Ev…`).
    pub event_id: String,
    /// Mention or DM.
    pub reach: Reach,
    /// The channel or DM (`C…`, `D…`).
    pub channel: String,
    /// Who wrote (`U…`).
    pub user: String,
    /// What they wrote, without the leading mention of the employee.
    pub text: String,
    /// The message's own timestamp (its id within the channel).
    pub ts: String,
    /// The thread to answer in: the thread it is in, or its own ts (a new thread).
    pub thread_ts: String,
}

impl SlackMessage {
    /// The idempotency key: the channel and the message's ts, so a retried delivery, or
    /// the same message over both the Events API and Socket Mode, is perceived once.
    pub fn idempotency_key(&self) -> String {
        format!("slack:{}:{}", self.channel, self.ts)
    }
}

/// What an Events API body or Socket Mode envelope comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// `url_verification`: answer the challenge.
    Challenge(String),
    /// A message to perceive.
    Message(SlackMessage),
    /// Nothing to perceive; says why (the employee's own or a bot's message, an edit,
    /// an event type the employee does not act on).
    Ignored(&'static str),
}

/// Why a body is not a Slack event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the body is not a Slack Events API request ({0}); expected JSON with `type` url_verification or event_callback"
)]
pub struct DecodeError(String);

/// Decodes an Events API request body.
pub fn decode(body: &[u8]) -> Result<Inbound, DecodeError> {
    let event: SlackPushEvent = serde_json::from_slice(body)
        .map_err(|e| DecodeError(crate::capabilities::excerpt(&e.to_string())))?;
    Ok(match event {
        SlackPushEvent::UrlVerification(v) => Inbound::Challenge(v.challenge),
        SlackPushEvent::EventCallback(cb) => from_callback(&cb),
        SlackPushEvent::AppRateLimited(_) => Inbound::Ignored("app_rate_limited notice"),
    })
}

/// What one event callback (from the Events API or a Socket Mode envelope) carries.
pub fn from_callback(cb: &SlackPushEventCallback) -> Inbound {
    let base = |reach, channel: &str, user: &str, text: &str, ts: &str, thread: Option<&str>| {
        if [channel, user, ts].iter().any(|s| s.trim().is_empty()) {
            return Inbound::Ignored("a message without channel, user or ts");
        }
        let thread = thread.filter(|t| !t.trim().is_empty());
        Inbound::Message(SlackMessage {
            app_id: cb.api_app_id.0.clone(),
            team_id: cb.team_id.0.clone(),
            event_id: cb.event_id.0.clone(),
            reach,
            channel: channel.to_string(),
            user: user.to_string(),
            text: clean_text(text),
            ts: ts.to_string(),
            thread_ts: thread.unwrap_or(ts).to_string(),
        })
    };
    match &cb.event {
        SlackEventCallbackBody::AppMention(m) => {
            let text = m.content.text.as_deref().unwrap_or("");
            if clean_text(text).is_empty() {
                return Inbound::Ignored("a mention with no text");
            }
            base(
                Reach::Mention,
                &m.channel.0,
                &m.user.0,
                text,
                &m.origin.ts.0,
                m.origin.thread_ts.as_ref().map(|t| t.0.as_str()),
            )
        }
        SlackEventCallbackBody::Message(m) => {
            if m.sender.bot_id.is_some() || m.subtype.is_some() {
                // The employee's own posts, other bots, edits, joins, deletions.
                return Inbound::Ignored("a bot's message or a message change");
            }
            if m.origin.channel_type.as_ref().map(|c| c.0.as_str()) != Some("im") {
                // Channel messages reach the employee as app_mention events.
                return Inbound::Ignored("a channel message that does not mention the employee");
            }
            let (Some(channel), Some(user)) = (&m.origin.channel, &m.sender.user) else {
                return Inbound::Ignored("a direct message without channel or user");
            };
            let text = m
                .content
                .as_ref()
                .and_then(|c| c.text.as_deref())
                .unwrap_or("");
            if clean_text(text).is_empty() {
                return Inbound::Ignored("a direct message with no text");
            }
            base(
                Reach::Direct,
                &channel.0,
                &user.0,
                text,
                &m.origin.ts.0,
                m.origin.thread_ts.as_ref().map(|t| t.0.as_str()),
            )
        }
        _ => Inbound::Ignored("an event type the employee does not act on"),
    }
}

/// The text without leading user mentions (`<@U…>`), Slack's escapes (`&lt;`, `&gt;`,
/// `&amp;`) read back, trimmed and at most [`MAX_TEXT`]. Other markup (links, mentions
/// within the text) is kept as Slack wrote it.
fn clean_text(text: &str) -> String {
    let mut t = text.trim_start();
    while let Some(rest) = t.strip_prefix("<@") {
        match rest.find('>') {
            Some(end) => t = rest[end + 1..].trim_start(),
            None => break,
        }
    }
    let unescaped = t
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let t = unescaped.trim();
    if t.len() <= MAX_TEXT {
        return t.to_string();
    }
    t[..t.floor_char_boundary(MAX_TEXT)].trim_end().to_string()
}

/// `text` as Slack's message text wants it: `&`, `<` and `>` escaped, so nothing the
/// employee writes is read as a mention, a link or a control sequence.
pub fn escape(text: &str) -> String {
    crate::capabilities::escape_markup(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";

    fn mention(text: &str, thread: Option<&str>) -> String {
        let thread = thread
            .map(|t| format!(r#","thread_ts":"{t}""#))
            .unwrap_or_default();
        format!(
            r#"{{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev1","event_time":1700000000,
            "event":{{"type":"app_mention","user":"U42","text":{},"ts":"1700000000.000100","channel":"C9","event_ts":"1700000000.000100"{thread}}},
            "authorizations":[{{"enterprise_id":null,"team_id":"T1","user_id":"UBOT","is_bot":true}}]}}"#,
            serde_json::to_string(text).unwrap()
        )
    }

    #[test]
    fn slacks_documented_example_signature_verifies() {
        // The example of Slack's "Verifying requests from Slack" page.
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign(SECRET, "1531420618", body), sig);
        assert_eq!(
            verify(SECRET, Some(sig), Some("1531420618"), body, 1531420618 + 10),
            Ok(())
        );
    }

    #[test]
    fn missing_bad_and_replayed_signatures_are_refused_saying_which() {
        let body = b"{}";
        let now = 1_700_000_000;
        let ts = now.to_string();
        let sig = sign(SECRET, &ts, body);
        assert_eq!(
            verify(SECRET, None, Some(&ts), body, now),
            Err(SignatureError::Missing("X-Slack-Signature"))
        );
        assert_eq!(
            verify(SECRET, Some(&sig), None, body, now),
            Err(SignatureError::Missing("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            verify(SECRET, Some("v0=zz"), Some(&ts), body, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"another secret", Some(&sig), Some(&ts), body, now),
            Err(SignatureError::Mismatch)
        );
        let e = verify(SECRET, Some(&sig), Some(&ts), body, now + 301).unwrap_err();
        assert_eq!(e, SignatureError::Stale(301));
        assert!(e.to_string().contains("replayed"), "{e}");
        assert_eq!(
            verify(SECRET, Some(&sig), Some(&ts), body, now - 300),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, Some(&sig), Some("soon"), body, now),
            Err(SignatureError::BadTimestamp)
        );
    }

    proptest! {
        #[test]
        fn any_change_to_the_body_or_timestamp_fails(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
            dt in 1i64..300,
        ) {
            let now = 1_700_000_000i64;
            let ts = now.to_string();
            let sig = sign(SECRET, &ts, &body);
            prop_assert_eq!(verify(SECRET, Some(&sig), Some(&ts), &body, now), Ok(()));
            if !body.is_empty() {
                let mut changed = body.clone();
                let i = flip.index(changed.len());
                changed[i] ^= 1 << bit;
                prop_assert_eq!(
                    verify(SECRET, Some(&sig), Some(&ts), &changed, now),
                    Err(SignatureError::Mismatch)
                );
            }
            let other = (now - dt).to_string();
            prop_assert_eq!(
                verify(SECRET, Some(&sig), Some(&other), &body, now),
                Err(SignatureError::Mismatch)
            );
        }

        #[test]
        fn decoding_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&body);
        }
    }

    #[test]
    fn a_mention_is_a_message_in_its_thread_without_the_mention() {
        let Inbound::Message(m) =
            decode(mention("<@UBOT> what are you working on?", None).as_bytes()).unwrap()
        else {
            panic!("a mention is perceived")
        };
        assert_eq!(m.reach, Reach::Mention);
        assert_eq!(m.text, "what are you working on?");
        assert_eq!((m.channel.as_str(), m.user.as_str()), ("C9", "U42"));
        assert_eq!(m.thread_ts, "1700000000.000100");
        assert_eq!(m.app_id, "A1");
        assert_eq!(m.idempotency_key(), "slack:C9:1700000000.000100");
        let Inbound::Message(m) =
            decode(mention("<@UBOT> and?", Some("1699999999.000001")).as_bytes()).unwrap()
        else {
            panic!("a mention in a thread is perceived")
        };
        assert_eq!(m.thread_ts, "1699999999.000001");
        assert_eq!(
            decode(mention("<@UBOT>  ", None).as_bytes()).unwrap(),
            Inbound::Ignored("a mention with no text")
        );
    }

    #[test]
    fn direct_messages_count_and_bot_and_channel_messages_do_not() {
        let msg = |extra: &str, channel_type: &str| {
            format!(
                r#"{{"team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev2","event_time":1700000000,
                "event":{{"type":"message","user":"U42","text":"hello","ts":"1700000001.000200","channel":"D7","channel_type":"{channel_type}","event_ts":"1700000001.000200"{extra}}}}}"#
            )
        };
        let Inbound::Message(m) = decode(msg("", "im").as_bytes()).unwrap() else {
            panic!("a DM is perceived")
        };
        assert_eq!((m.reach, m.channel.as_str()), (Reach::Direct, "D7"));
        assert!(matches!(
            decode(msg(r#","bot_id":"B1""#, "im").as_bytes()).unwrap(),
            Inbound::Ignored(_)
        ));
        assert!(matches!(
            decode(msg(r#","subtype":"message_changed""#, "im").as_bytes()).unwrap(),
            Inbound::Ignored(_)
        ));
        assert!(matches!(
            decode(msg("", "channel").as_bytes()).unwrap(),
            Inbound::Ignored(_)
        ));
    }

    #[test]
    fn url_verification_gives_the_challenge_and_junk_is_refused() {
        let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        assert_eq!(
            decode(body).unwrap(),
            Inbound::Challenge("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into())
        );
        let e = decode(b"not json").unwrap_err();
        assert!(
            e.to_string().contains("not a Slack Events API request"),
            "{e}"
        );
    }

    #[test]
    fn slacks_escapes_are_read_back_and_written_again() {
        assert_eq!(
            clean_text("<@UBOT> is 3 &lt; 4 &amp;&amp; 5 &gt; 4?"),
            "is 3 < 4 && 5 > 4?"
        );
        assert_eq!(clean_text("&amp;lt;"), "&lt;");
        assert_eq!(
            escape("Priya <priya@x.com> & co"),
            "Priya &lt;priya@x.com&gt; &amp; co"
        );
        let text = "a < b & c > d &lt;";
        assert_eq!(clean_text(&escape(text)), text);
    }

    #[test]
    fn long_text_is_cut_at_a_character() {
        let long = "é".repeat(MAX_TEXT);
        let t = clean_text(&long);
        assert!(t.len() <= MAX_TEXT && t.chars().all(|c| c == 'é'));
    }
}
