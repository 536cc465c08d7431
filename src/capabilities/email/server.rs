//! What the SMTP and IMAP drivers share: where the mail server is, how connections to
//! it are protected (the roots its certificate must chain to), and the employees'
//! mailbox logins, re-read from the credentials file while the node runs so an
//! account added for a new hire is picked up without a restart.

use crate::capabilities::CapabilityError;
use crate::config::{MailAccount, MailAccounts, MailConfig, Security};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// One server endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Host name, as the server's certificate names it.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Protection.
    pub security: Security,
}

/// The mail server as the node reaches it.
pub struct MailServer {
    /// SMTP, for sending.
    pub smtp: Endpoint,
    /// IMAP, for receiving.
    pub imap: Endpoint,
    /// PEM of the roots to trust instead of the public ones, if configured.
    pub roots_pem: Option<Vec<u8>>,
    /// TLS settings for IMAP (SMTP's are lettre's, built from `roots_pem`).
    pub tls: Arc<rustls::ClientConfig>,
    /// Mailbox logins.
    pub logins: Logins,
}

impl MailServer {
    /// From `[mail]`, with relative paths taken from `data_dir`. Fails when the CA file
    /// or the credentials file cannot be used, saying which and why.
    pub fn from_config(cfg: &MailConfig, data_dir: &Path) -> Result<MailServer, String> {
        let roots_pem = if cfg.ca_file.as_os_str().is_empty() {
            None
        } else {
            let path = MailConfig::resolve(data_dir, &cfg.ca_file);
            Some(std::fs::read(&path).map_err(|e| {
                format!(
                    "mail.ca_file {} cannot be read ({e}); give the PEM file of the CA that signed the mail server's certificate",
                    path.display()
                )
            })?)
        };
        let tls = tls_config(roots_pem.as_deref())?;
        let logins = Logins::open(MailConfig::resolve(data_dir, &cfg.credentials_file))?;
        Ok(MailServer {
            smtp: Endpoint {
                host: cfg.smtp_host.trim().to_string(),
                port: cfg.smtp_port,
                security: cfg.smtp_security,
            },
            imap: Endpoint {
                host: cfg.imap_host.trim().to_string(),
                port: cfg.imap_port,
                security: cfg.imap_security,
            },
            roots_pem,
            tls,
            logins,
        })
    }
}

/// A rustls client configuration trusting `roots_pem` only, or the public web roots.
fn tls_config(roots_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match roots_pem {
        Some(pem) => {
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert =
                    cert.map_err(|e| format!("mail.ca_file is not a PEM certificate file ({e})"))?;
                roots.add(cert).map_err(|e| {
                    format!("mail.ca_file holds a certificate rustls refuses ({e})")
                })?;
                n += 1;
            }
            if n == 0 {
                return Err("mail.ca_file holds no PEM certificate".into());
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The employees' mailbox logins, from the credentials file.
pub struct Logins {
    path: PathBuf,
    current: RwLock<Arc<MailAccounts>>,
}

impl Logins {
    /// Reads `path` (a missing file means no logins yet).
    pub fn open(path: PathBuf) -> Result<Logins, String> {
        let accounts = MailAccounts::load(&path)?;
        Ok(Logins {
            path,
            current: RwLock::new(Arc::new(accounts)),
        })
    }

    /// Logins as given, for tests and embedding.
    pub fn fixed(accounts: MailAccounts) -> Logins {
        Logins {
            path: PathBuf::new(),
            current: RwLock::new(Arc::new(accounts)),
        }
    }

    /// Reads the file again; on an error the logins read before stay in use.
    pub fn reload(&self) -> Result<(), String> {
        if self.path.as_os_str().is_empty() {
            return Ok(());
        }
        let fresh = MailAccounts::load(&self.path)?;
        if let Ok(mut cur) = self.current.write()
            && **cur != fresh
        {
            *cur = Arc::new(fresh);
        }
        Ok(())
    }

    /// Every login now.
    pub fn all(&self) -> Arc<MailAccounts> {
        self.current.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// The login of `address`, or an error saying where to add it.
    pub fn of(&self, address: &str) -> Result<MailAccount, CapabilityError> {
        self.all().get(address).cloned().ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "{address} has no login in {}; add [accounts.\"{address}\"] with `password` or `password_env` there",
                self.path.display()
            ))
        })
    }
}
