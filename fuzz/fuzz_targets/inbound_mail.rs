//! Inbound mail as the IMAP bridge reads it: any bytes become a message (never a
//! panic), with a Message-ID that is the same each time the same bytes are read, and
//! attachments that are either kept or recorded with their size.
#![no_main]

use empla::capabilities::email::mime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let now = chrono::Utc::now();
    let a = mime::parse(raw, 4096, now).message;
    let b = mime::parse(raw, 4096, now).message;
    assert!(!a.message_id.is_empty());
    assert_eq!(a.message_id, b.message_id);
    assert!(!a.subject.contains(['\r', '\n']));
    assert!(a.body.len() <= mime::MAX_INBOUND_BODY + 64);
});
