//! Slack Events API requests as the node receives them: any body decodes to a challenge,
//! a message, an ignored event or an error (never a panic); a message has a channel,
//! a sender, a ts and a thread, and trimmed text within the limit; and the
//! signature check refuses the body under any signature but its own.
#![no_main]

use empla::capabilities::chat::slack_events::{self, Inbound, MAX_TEXT};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-signing-secret";

fuzz_target!(|body: &[u8]| {
    if let Ok(Inbound::Message(m)) = slack_events::decode(body) {
        assert!(!m.channel.is_empty() && !m.user.is_empty() && !m.ts.is_empty());
        assert!(!m.thread_ts.is_empty());
        assert!(!m.text.is_empty() && m.text.len() <= MAX_TEXT);
        assert_eq!(m.text.trim(), m.text);
        assert_eq!(m.idempotency_key(), format!("slack:{}:{}", m.channel, m.ts));
    }
    let now = 1_700_000_000;
    let ts = now.to_string();
    let good = slack_events::sign(SECRET, &ts, body);
    assert!(slack_events::verify(SECRET, Some(&good), Some(&ts), body, now).is_ok());
    let forged = String::from_utf8_lossy(body);
    assert!(slack_events::verify(SECRET, Some(&forged), Some(&ts), body, now).is_err());
});
