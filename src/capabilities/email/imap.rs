//! Receiving from a real mail server: one IMAP session per employee mailbox, with
//! async-imap over tokio-rustls (STARTTLS or TLS). The session lists what is unseen,
//! fetches it with `BODY.PEEK[]` (which leaves `\Seen` unset), and sets `\Seen` only
//! when told to — after the caller has committed the messages to the durable inbox.
//! A crash in between re-reads them; the Message-ID makes the second read a no-op.
//!
//! New mail is waited for with IDLE where the server offers it, by polling otherwise.

use super::server::{Endpoint, MailServer};
use crate::capabilities::CapabilityError;
use crate::config::{MailAccount, Security};
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Longest wait for any one exchange with the server (a 20 MB fetch included).
const EXCHANGE: Duration = Duration::from_secs(120);

/// A connection to the server, plain or under TLS.
#[derive(Debug)]
pub enum MailStream {
    /// No encryption (`security = "none"`).
    Plain(TcpStream),
    /// TLS, from the start or after STARTTLS.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type Session = async_imap::Session<MailStream>;

/// One logged-in mailbox with INBOX selected.
pub struct Mailbox {
    session: Session,
    idle: bool,
    can_move: bool,
    address: String,
    /// INBOX's UIDVALIDITY: UIDs read under another are not this mailbox's.
    pub uid_validity: u32,
    /// INBOX's UIDNEXT when selected: the UID the next message will get.
    pub uid_next: u32,
}

fn service(address: &str, what: &str, e: impl std::fmt::Display) -> CapabilityError {
    CapabilityError::Service(format!("IMAP {what} for {address} failed: {e}"))
}

/// Runs `f` within [`EXCHANGE`].
async fn timed<T, E: std::fmt::Display>(
    address: &str,
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, CapabilityError> {
    match tokio::time::timeout(EXCHANGE, f).await {
        Ok(r) => r.map_err(|e| service(address, what, e)),
        Err(_) => Err(service(address, what, "no answer in time")),
    }
}

async fn connect(
    e: &Endpoint,
    tls: &std::sync::Arc<rustls::ClientConfig>,
    address: &str,
) -> Result<async_imap::Client<MailStream>, CapabilityError> {
    let tcp = timed(
        address,
        "connect",
        TcpStream::connect((e.host.as_str(), e.port)),
    )
    .await?;
    let _ = tcp.set_nodelay(true);
    let wrap = |tcp: TcpStream| async {
        let name = rustls::pki_types::ServerName::try_from(e.host.clone())
            .map_err(|err| service(address, "TLS", format!("{:?}: {err}", e.host)))?;
        let s = timed(
            address,
            "TLS handshake",
            tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp),
        )
        .await?;
        Ok::<_, CapabilityError>(MailStream::Tls(Box::new(s)))
    };
    let greeting = |mut c: async_imap::Client<MailStream>| async move {
        match timed(address, "greeting", c.read_response()).await? {
            Some(_) => Ok(c),
            None => Err(service(
                address,
                "greeting",
                "the server closed the connection",
            )),
        }
    };
    match e.security {
        Security::None => greeting(async_imap::Client::new(MailStream::Plain(tcp))).await,
        Security::Tls => greeting(async_imap::Client::new(wrap(tcp).await?)).await,
        Security::Starttls => {
            let mut plain = greeting(async_imap::Client::new(MailStream::Plain(tcp))).await?;
            timed(
                address,
                "STARTTLS",
                plain.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            let MailStream::Plain(tcp) = plain.into_inner() else {
                unreachable!("the stream before STARTTLS is plain")
            };
            Ok(async_imap::Client::new(wrap(tcp).await?))
        }
    }
}

impl Mailbox {
    /// Connects, logs in as `login` and selects INBOX.
    pub async fn open(
        server: &MailServer,
        address: &str,
        login: &MailAccount,
    ) -> Result<Mailbox, CapabilityError> {
        let client = connect(&server.imap, &server.tls, address).await?;
        let login_result = tokio::time::timeout(
            EXCHANGE,
            client.login(&login.username, login.password.expose()),
        )
        .await
        .map_err(|_| service(address, "login", "no answer in time"))?;
        let mut session = login_result.map_err(|(e, _)| {
            CapabilityError::Invalid(format!(
                "the IMAP server refused the login of {address} (user {:?}): {e}; check its entry in the credentials file",
                login.username
            ))
        })?;
        let caps = timed(address, "CAPABILITY", session.capabilities()).await?;
        let idle = caps.has_str("IDLE");
        let can_move = caps.has_str("MOVE");
        let inbox = timed(address, "SELECT INBOX", session.select("INBOX")).await?;
        Ok(Mailbox {
            session,
            idle,
            can_move,
            address: address.to_string(),
            uid_validity: inbox.uid_validity.unwrap_or(0),
            uid_next: inbox.uid_next.unwrap_or(1),
        })
    }

    /// Selects `folder` in place of INBOX (what a human's client does to look elsewhere).
    pub async fn select(&mut self, folder: &str) -> Result<(), CapabilityError> {
        let address = self.address.clone();
        let selected = timed(
            &address,
            "SELECT",
            self.session.select(format!("\"{folder}\"")),
        )
        .await?;
        self.uid_validity = selected.uid_validity.unwrap_or(0);
        self.uid_next = selected.uid_next.unwrap_or(1);
        Ok(())
    }

    /// UIDs from `first` on, oldest first: what arrived since intake stood there,
    /// whatever its `\Seen` flag (another client may have read it).
    pub async fn since(&mut self, first: u32) -> Result<Vec<u32>, CapabilityError> {
        let mut uids = self.search(&format!("UID {}:*", first.max(1))).await?;
        // `n:*` names the last message even when its UID is below n.
        uids.retain(|u| *u >= first);
        Ok(uids)
    }

    /// Parks the message `uid`: flags it and moves it to `folder` (made when missing),
    /// so a human finds it and intake passes it.
    pub async fn park(&mut self, uid: u32, folder: &str) -> Result<(), CapabilityError> {
        let address = self.address.clone();
        let set = uid.to_string();
        self.store_flags(&set, "+FLAGS.SILENT (\\Flagged)").await?;
        let quoted = format!("\"{folder}\"");
        // Made once; "already exists" is the usual answer after that.
        let _ = timed(&address, "CREATE", self.session.create(&quoted)).await;
        if self.can_move {
            timed(&address, "MOVE", self.session.uid_mv(&set, &quoted)).await?;
        } else {
            timed(&address, "COPY", self.session.uid_copy(&set, &quoted)).await?;
            self.store_flags(&set, "+FLAGS.SILENT (\\Deleted)").await?;
            timed(&address, "EXPUNGE", async {
                let stream = self.session.uid_expunge(&set).await?;
                stream.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        Ok(())
    }

    /// UIDs of the messages not yet seen, oldest first.
    pub async fn unseen(&mut self) -> Result<Vec<u32>, CapabilityError> {
        self.search("UNSEEN").await
    }

    /// UIDs of the messages matching an IMAP search (`ALL`, `UNSEEN`, …), oldest first.
    pub async fn search(&mut self, query: &str) -> Result<Vec<u32>, CapabilityError> {
        let set = timed(&self.address, "SEARCH", self.session.uid_search(query)).await?;
        let mut uids: Vec<u32> = set.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The raw bytes of the messages `uids`, without marking them seen; a message the
    /// server no longer has is left out.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, CapabilityError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let address = self.address.clone();
        let fetched = timed(&address, "FETCH", async {
            let stream = self.session.uid_fetch(&set, "(UID BODY.PEEK[])").await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        let mut out: Vec<(u32, Vec<u8>)> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
            .collect();
        out.sort_by_key(|(uid, _)| *uid);
        Ok(out)
    }

    /// Sets `\Seen` on `uids`.
    pub async fn mark_seen(&mut self, uids: &[u32]) -> Result<(), CapabilityError> {
        self.set_seen(uids, true).await
    }

    /// Sets or clears `\Seen` on `uids`.
    pub async fn set_seen(&mut self, uids: &[u32], seen: bool) -> Result<(), CapabilityError> {
        if uids.is_empty() {
            return Ok(());
        }
        let change = if seen {
            "+FLAGS.SILENT (\\Seen)"
        } else {
            "-FLAGS.SILENT (\\Seen)"
        };
        self.store_flags(&uid_set(uids), change).await
    }

    /// `UID STORE set change`, e.g. `+FLAGS.SILENT (\\Flagged)`.
    async fn store_flags(&mut self, set: &str, change: &str) -> Result<(), CapabilityError> {
        let address = self.address.clone();
        timed(&address, &format!("STORE {change}"), async {
            let stream = self.session.uid_store(set, change).await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(())
    }

    /// Waits for new mail: with IDLE for at most `max`, else sleeps `max`.
    pub async fn wait(self, max: Duration) -> Result<Mailbox, CapabilityError> {
        let notices = self.session.unsolicited_responses.clone();
        while notices.try_recv().is_ok() {}
        if !self.idle {
            tokio::time::sleep(max).await;
            return Ok(self);
        }
        let Mailbox {
            session,
            idle,
            can_move,
            address,
            uid_validity,
            uid_next,
        } = self;
        let mut handle = session.idle();
        timed(&address, "IDLE", handle.init()).await?;
        // Mail announced while IDLE was starting needs no wait.
        let announced = std::iter::from_fn(|| notices.try_recv().ok()).any(|n| {
            matches!(
                n,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            )
        });
        if !announced {
            let (wait, _stop) = handle.wait_with_timeout(max);
            match wait.await {
                Ok(IdleResponse::NewData(_) | IdleResponse::Timeout) => {}
                Ok(IdleResponse::ManualInterrupt) => {}
                Err(e) => return Err(service(&address, "IDLE", e)),
            }
        }
        let session = timed(&address, "DONE", handle.done()).await?;
        Ok(Mailbox {
            session,
            idle,
            can_move,
            address,
            uid_validity,
            uid_next,
        })
    }

    /// Logs out (errors ignored: the connection is dropped either way).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

/// `1,3,7` for IMAP.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
