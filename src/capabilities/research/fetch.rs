//! Fetching a web page the way a polite reader does: its site's robots.txt obeyed, only
//! HTML and plain text read, within the size, time and redirect limits of
//! `[research]`, never into private addresses unless allowed; HTML read down to its
//! article text (dom_smoothie, a port of Mozilla's Readability).

use super::ResearchError;
use super::config::ResearchConfig;
use reqwest::Url;
use std::net::IpAddr;
use std::time::Duration;

/// A page read.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Where it was read from, after redirects.
    pub url: String,
    /// Its title (from the page, else the URL).
    pub title: String,
    /// Its readable text.
    pub text: String,
}

/// Whether `ip` is on the company's side of the network: loopback, private,
/// link-local, unspecified or unique-local.
fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| private(IpAddr::V4(v4)))
        }
    }
}

/// `url` checked as something an employee may read: http or https, a host, and (unless
/// allowed) not an address on the company's side of the network.
pub async fn check_url(cfg: &ResearchConfig, url: &str) -> Result<Url, ResearchError> {
    let u = Url::parse(url.trim()).map_err(|e| {
        ResearchError::Invalid(format!(
            "{url:?} is not a web address such as https://example.com/news ({e})"
        ))
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(ResearchError::Invalid(format!(
            "{url:?} is a {} address; research reads http and https pages only",
            u.scheme()
        )));
    }
    let host = u
        .host_str()
        .ok_or_else(|| ResearchError::Invalid(format!("{url:?} names no host")))?
        .trim_matches(['[', ']']);
    if !cfg.allow_private {
        let port = u.port_or_known_default().unwrap_or(80);
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| ResearchError::Unreachable(format!("{host} cannot be resolved: {e}")))?
                .map(|a| a.ip())
                .collect(),
        };
        if let Some(ip) = addrs.into_iter().find(|ip| private(*ip)) {
            return Err(ResearchError::Invalid(format!(
                "{host} is at {ip}, a private address; research reads public pages only (`[research] allow_private` lifts this)"
            )));
        }
    }
    Ok(u)
}

/// A resolver that answers a name's public addresses only, and an error naming it when
/// it has none: pages on the company's side of the network stay out of reach even when
/// a name is made to point there after it was checked.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> =
                all.into_iter().filter(|a| !private(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} has only private addresses; research reads public pages only"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The reader: one HTTP client with the limits of `[research]`.
pub struct Reader {
    http: reqwest::Client,
    cfg: ResearchConfig,
}

impl Reader {
    /// A reader keeping `cfg`'s limits.
    pub fn new(cfg: &ResearchConfig) -> Result<Reader, String> {
        crate::telemetry::install_crypto_provider();
        // Redirects are followed by hand, each hop's address checked before it is asked.
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none());
        // Names are resolved once, at connection, to public addresses only: what was
        // checked is what is connected to.
        let http = if cfg.allow_private {
            http
        } else {
            http.dns_resolver(std::sync::Arc::new(PublicOnly))
        };
        let http = http
            .build()
            .map_err(|e| format!("research: the HTTP client cannot be built: {e}"))?;
        Ok(Reader {
            http,
            cfg: cfg.clone(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ResearchConfig {
        &self.cfg
    }

    /// The HTTP client (for the search provider).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Whether the site's robots.txt lets this reader fetch `u`. A missing robots.txt
    /// (4xx) allows everything; one that cannot be read (5xx, no answer) allows nothing,
    /// as RFC 9309 asks.
    async fn robots_allow(&self, u: &Url) -> Result<(), ResearchError> {
        let mut robots = u.clone();
        robots.set_path("/robots.txt");
        robots.set_query(None);
        robots.set_fragment(None);
        let resp = self.http.get(robots.clone()).send().await.map_err(|e| {
            ResearchError::Unreachable(format!(
                "{robots} could not be read ({e}); nothing on the site is fetched without it"
            ))
        })?;
        let status = resp.status();
        // Missing (4xx), or moved elsewhere (3xx, not followed): as good as none.
        if status.is_client_error() || status.is_redirection() {
            return Ok(());
        }
        if !status.is_success() {
            return Err(ResearchError::Unreachable(format!(
                "{robots} answered {status}; nothing on the site is fetched until it can be read"
            )));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| ResearchError::Unreachable(format!("{robots} could not be read: {e}")))?;
        let parsed = texting_robots::Robot::new(&self.cfg.user_agent, &body);
        match parsed {
            Ok(r) if !r.allowed(u.as_str()) => Err(ResearchError::Refused(format!(
                "{}'s robots.txt does not let {} read {}",
                u.host_str().unwrap_or(""),
                self.cfg.user_agent,
                u.path()
            ))),
            // An unreadable robots.txt is as good as none.
            _ => Ok(()),
        }
    }

    /// Reads `url`: checked, robots.txt obeyed, HTML or plain text only, at most
    /// `max_bytes`, within `timeout` and `max_redirects`.
    pub async fn fetch(&self, url: &str) -> Result<Page, ResearchError> {
        let u = check_url(&self.cfg, url).await?;
        let work = async {
            self.robots_allow(&u).await?;
            let mut landed = u.clone();
            let mut hops = 0;
            let mut resp = loop {
                let resp = self.http.get(landed.clone()).send().await.map_err(|e| {
                    ResearchError::Unreachable(format!("{landed} could not be read: {e}"))
                })?;
                if !resp.status().is_redirection() {
                    break resp;
                }
                let Some(next) = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| landed.join(l).ok())
                else {
                    break resp;
                };
                hops += 1;
                if hops > self.cfg.max_redirects {
                    return Err(ResearchError::Refused(format!(
                        "{u} redirects more than {} times; not followed",
                        self.cfg.max_redirects
                    )));
                }
                // Each hop is checked before it is asked: its address, and its site's
                // robots.txt for its path.
                check_url(&self.cfg, next.as_str()).await?;
                self.robots_allow(&next).await?;
                landed = next;
            };
            let status = resp.status();
            if !status.is_success() {
                return Err(ResearchError::Unreachable(format!(
                    "{landed} answered {status}"
                )));
            }
            let kind = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let html = matches!(kind.as_str(), "text/html" | "application/xhtml+xml");
            if !html && kind != "text/plain" {
                return Err(ResearchError::Refused(format!(
                    "{landed} is {}; research reads HTML and plain-text pages",
                    if kind.is_empty() {
                        "of no stated type"
                    } else {
                        &kind
                    }
                )));
            }
            if let Some(n) = resp.content_length()
                && n > self.cfg.max_bytes
            {
                return Err(too_big(&landed, self.cfg.max_bytes));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| {
                ResearchError::Unreachable(format!("{landed} could not be read: {e}"))
            })? {
                if (body.len() + chunk.len()) as u64 > self.cfg.max_bytes {
                    return Err(too_big(&landed, self.cfg.max_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            let raw = String::from_utf8_lossy(&body).into_owned();
            Ok(if html {
                readable(&raw, landed.as_str())
            } else {
                Page {
                    url: landed.to_string(),
                    title: landed.to_string(),
                    text: raw,
                }
            })
        };
        tokio::time::timeout(self.cfg.timeout, work)
            .await
            .map_err(|_| {
                ResearchError::Unreachable(format!(
                    "{u} took longer than {} s; given up",
                    self.cfg.timeout.as_secs()
                ))
            })?
    }
}

fn too_big(u: &Url, max: u64) -> ResearchError {
    ResearchError::Refused(format!(
        "{u} is larger than {max} bytes (`[research] max_bytes`); not read"
    ))
}

/// The article text of `html` (its title and readable text); the whole page's text
/// when no article stands out.
pub fn readable(html: &str, url: &str) -> Page {
    let cfg = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..Default::default()
    };
    let article = dom_smoothie::Readability::new(html, Some(url), Some(cfg))
        .ok()
        .and_then(|mut r| r.parse().ok());
    match article {
        Some(a) => Page {
            url: url.to_string(),
            title: if a.title.trim().is_empty() {
                url.to_string()
            } else {
                a.title.trim().to_string()
            },
            text: a.text_content.trim().to_string(),
        },
        None => Page {
            url: url.to_string(),
            title: url.to_string(),
            text: mail_parser::decoders::html::html_to_text(html)
                .trim()
                .to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_addresses_are_refused_unless_allowed() {
        let cfg = ResearchConfig::default();
        for url in [
            "http://127.0.0.1/admin",
            "http://10.0.0.5/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://100.64.0.1/",
        ] {
            let e = check_url(&cfg, url).await.unwrap_err().to_string();
            assert!(e.contains("a private address"), "{url}: {e}");
        }
        let open = ResearchConfig {
            allow_private: true,
            ..Default::default()
        };
        assert!(check_url(&open, "http://127.0.0.1/admin").await.is_ok());
        let e = check_url(&cfg, "ftp://example.com/x")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("http and https pages only"), "{e}");
        assert!(!private("8.8.8.8".parse().unwrap()), "a public address");
    }

    #[tokio::test]
    async fn the_resolver_answers_public_addresses_only() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let e = PublicOnly
            .resolve(name)
            .await
            .err()
            .expect("localhost is private");
        assert!(e.to_string().contains("has only private addresses"), "{e}");
    }
}
