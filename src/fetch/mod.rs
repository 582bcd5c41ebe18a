//! Fetching: a declared URL → [`Fetched`] bytes, politely and safely.
//!
//! A [`Fetcher`] holds one HTTP client (reqwest on tokio, rustls) and a gate per
//! host: at most `fetch.per_host` requests in flight to one host, and at least
//! `fetch.per_host_delay` between two of them. [`Fetcher::fetch`] follows
//! redirects itself (bounded, cookies kept within the one fetch, every target
//! checked), retries transient failures with exponential backoff and jitter
//! (honouring `Retry-After`), caps the body at `fetch.max_body` after
//! decompression, and recognises anti-bot challenge pages so that they are never
//! recorded as policy versions. Every failure is an [`Error`] whose class says
//! what happened (`dns`, `connect`, `timeout`, `tls`, `http_status`, `blocked`, …).
//!
//! Address safety: unless `fetch.allow_private_addresses` is set, loopback,
//! private, link-local (cloud metadata), multicast and unspecified addresses are
//! refused after DNS resolution (the resolver drops them) and for IP literals, on
//! the first request and on every redirect; only `http` and `https` are fetched.
//!
//! ```no_run
//! # async fn run() -> policydiff::Result<()> {
//! use policydiff::fetch::FetchConfig;
//! use policydiff::fetch::Fetcher;
//!
//! let fetcher = Fetcher::new(&FetchConfig::default())?;
//! let page = fetcher.fetch("https://www.example.com/privacy").await?;
//! println!("{} bytes of {:?}", page.bytes.len(), page.content_type);
//! # Ok(()) }
//! ```

#[cfg(feature = "browser")]
pub mod browser;
pub mod challenge;
#[cfg(feature = "browser")]
pub mod egress;
pub mod encoding;
pub mod safety;
pub mod settings;
mod source;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::cookie::CookieStore;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, ACCEPT_LANGUAGE, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, LOCATION,
    RETRY_AFTER, SET_COOKIE,
};
use tokio::sync::Semaphore;
use url::Url;

pub use safety::is_public_address;
pub use source::SourceFetcher;

use crate::{Error, Result};
use challenge::challenge;
pub use settings::{BrowserConfig, FetchConfig, Viewport};

/// A fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body, decompressed.
    pub bytes: Vec<u8>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: String,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
    /// The body's DEFLATE stream as the server sent it (gzip-compressed, in one member), which
    /// the recorder stores instead of compressing the body again ([`encoding`]).
    pub deflated: Option<encoding::Deflated>,
}

struct HostGate {
    in_flight: Arc<Semaphore>,
    last_request: tokio::sync::Mutex<Option<Instant>>,
}

/// Fetches documents with one client and per-host politeness.
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    /// Base of the exponential backoff between attempts.
    pub retry_base_delay: Duration,
}

impl Fetcher {
    /// Builds the client from the configuration.
    pub fn new(config: &FetchConfig) -> Result<Fetcher> {
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            // Gzip bodies are inflated here rather than by the client, which would drop the
            // server's compressed stream (`encoding`); Brotli and deflate bodies, which the
            // requests do not ask for, are still inflated by the client if a server sends them.
            .gzip(false)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout)
            .dns_resolver(Arc::new(safety::SafeResolver {
                policy: config.allow_private_addresses.clone(),
            }));
        if let Some(proxy) = &config.proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|e| Error::io("fetch.proxy", std::io::Error::other(e)))?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| Error::io("cannot build the HTTP client", std::io::Error::other(e)))?;
        Ok(Fetcher {
            client,
            config: config.clone(),
            hosts: Mutex::new(HashMap::new()),
            retry_base_delay: Duration::from_millis(1000),
        })
    }

    fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        hosts
            .entry(host.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(HostGate {
                    in_flight: Arc::new(Semaphore::new(self.config.per_host)),
                    last_request: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// Fetches a URL, retrying transient failures.
    pub async fn fetch(&self, url: &str) -> Result<Fetched> {
        let mut attempt = 0;
        loop {
            // `fetch_once` bounds the request and the body by `fetch.timeout` itself, counted
            // from the first request sent: a document waiting for its host's turn behind a slow
            // one must not time out for that wait.
            let result = self.fetch_once(url).await;
            match result {
                Err(error) if error.is_transient() && attempt < self.config.retries => {
                    let wait = match &error {
                        Error::HttpStatus {
                            retry_after: Some(seconds),
                            ..
                        } if *seconds > 60 => return Err(error),
                        Error::HttpStatus {
                            retry_after: Some(seconds),
                            ..
                        } => Duration::from_secs(*seconds),
                        _ => {
                            let jitter = rand::random_range(
                                0..=self.retry_base_delay.as_millis() as u64 / 2 + 1,
                            );
                            self.retry_base_delay * 2u32.pow(attempt)
                                + Duration::from_millis(jitter)
                        }
                    };
                    tracing::debug!(url, attempt, ?wait, %error, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt: the request and its redirects, within `fetch.timeout` counted from the
    /// first request sent (waiting for the host's turn does not count).
    async fn fetch_once(&self, url: &str) -> Result<Fetched> {
        let mut deadline: Option<tokio::time::Instant> = None;
        let timed_out = || Error::Timeout {
            url: url.to_string(),
            seconds: self.config.timeout.as_secs().max(1),
        };
        let cookies = reqwest::cookie::Jar::default();
        // A redirect chain keeps its host's turn while it stays on that host.
        let mut turn: Option<(String, tokio::sync::OwnedSemaphorePermit)> = None;
        let mut current = Url::parse(url).map_err(|e| Error::ForbiddenAddress {
            url: url.to_string(),
            reason: format!("not a valid URL ({e})"),
        })?;
        for _ in 0..=self.config.max_redirects {
            safety::check_target(&current, &self.config.allow_private_addresses)?;
            let host = current.host_str().unwrap_or_default().to_string();
            let gate = self.gate(&host);
            if turn.as_ref().is_none_or(|(held, _)| *held != host) {
                drop(turn.take()); // release the previous host before waiting on the next
                let permit =
                    gate.in_flight
                        .clone()
                        .acquire_owned()
                        .await
                        .map_err(|_| Error::Connect {
                            url: url.to_string(),
                            message: "the fetcher is shutting down".into(),
                            cause: None,
                        })?;
                turn = Some((host.clone(), permit));
            }
            {
                let mut last = gate.last_request.lock().await;
                if let Some(previous) = *last {
                    let ready = previous + self.config.per_host_delay;
                    let now = Instant::now();
                    if ready > now {
                        tokio::time::sleep(ready - now).await;
                    }
                }
                *last = Some(Instant::now());
            }
            let mut request = self
                .client
                .get(current.clone())
                .header(ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,application/pdf,*/*;q=0.8")
                .header(ACCEPT_LANGUAGE, self.config.accept_language.as_str())
                // Gzip rather than Brotli: a gzip body's stream is stored as it came, with
                // nothing to compress again.
                .header(ACCEPT_ENCODING, "gzip, deflate");
            if let Some(cookie) = cookies.cookies(&current) {
                request = request.header(COOKIE, cookie);
            }
            let deadline =
                *deadline.get_or_insert_with(|| tokio::time::Instant::now() + self.config.timeout);
            let response = tokio::time::timeout_at(deadline, request.send())
                .await
                .map_err(|_| timed_out())?
                .map_err(|e| classify(url, e))?;
            cookies.set_cookies(&mut response.headers().get_all(SET_COOKIE).iter(), &current);
            let status = response.status();
            if status.is_redirection()
                && let Some(location) = response.headers().get(LOCATION)
            {
                let location = location.to_str().unwrap_or_default();
                current = current
                    .join(location)
                    .map_err(|e| Error::ForbiddenAddress {
                        url: url.to_string(),
                        reason: format!("it redirects to an invalid address {location:?} ({e})"),
                    })?;
                continue;
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let final_url = current.to_string();
            let gzipped = response
                .headers()
                .get(CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|coding| {
                    let coding = coding.trim();
                    coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip")
                });
            let body =
                tokio::time::timeout_at(deadline, read_body(url, response, self.config.max_body))
                    .await
                    .map_err(|_| timed_out())??;
            let (bytes, deflated) = if !gzipped || body.is_empty() {
                (body, None)
            } else {
                match gunzip_body(url, &body, self.config.max_body) {
                    Ok(inflated) => inflated,
                    // An error page that does not inflate fails by its status, below.
                    Err(_) if !status.is_success() => (body, None),
                    Err(error) => return Err(error),
                }
            };
            let fetched_at = Utc::now();
            if let Some(what) = challenge(status.as_u16(), &bytes, url, &final_url) {
                return Err(Error::Blocked {
                    url: url.to_string(),
                    what: what.to_string(),
                });
            }
            if !status.is_success() {
                return Err(Error::HttpStatus {
                    url: url.to_string(),
                    status: status.as_u16(),
                    retry_after,
                });
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(Error::EmptyBody {
                    url: url.to_string(),
                });
            }
            return Ok(Fetched {
                bytes,
                content_type,
                final_url,
                fetched_at,
                deflated,
            });
        }
        Err(Error::TooManyRedirects {
            url: url.to_string(),
            limit: self.config.max_redirects,
        })
    }
}

async fn read_body(url: &str, mut response: reqwest::Response, max_body: u64) -> Result<Vec<u8>> {
    if response
        .content_length()
        .is_some_and(|length| length > max_body)
        && response.status().is_success()
    {
        return Err(Error::TooLarge {
            url: url.to_string(),
            reason: format!(
                "the server announces {} bytes, more than `fetch.max_body` ({max_body} bytes)",
                response.content_length().unwrap_or_default()
            ),
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(url, e))? {
        if body.len() as u64 + chunk.len() as u64 > max_body {
            return Err(Error::TooLarge {
                url: url.to_string(),
                reason: format!(
                    "the body exceeds `fetch.max_body` ({max_body} bytes, after decompression)"
                ),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Inflates a gzip body ([`encoding::gunzip`]); a damaged one fails as a lost connection
/// would (it is retried), a bomb as too large.
fn gunzip_body(
    url: &str,
    body: &[u8],
    max_body: u64,
) -> Result<(Vec<u8>, Option<encoding::Deflated>)> {
    encoding::gunzip(body, max_body).map_err(|error| match error {
        encoding::GzipError::TooLarge => Error::TooLarge {
            url: url.to_string(),
            reason: format!(
                "the body exceeds `fetch.max_body` ({max_body} bytes, after decompression)"
            ),
        },
        encoding::GzipError::Invalid(message) => Error::Connect {
            url: url.to_string(),
            message,
            cause: None,
        },
    })
}

fn parse_retry_after(value: &str) -> Option<u64> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(seconds);
    }
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|date| (date.with_timezone(&Utc) - Utc::now()).num_seconds().max(0) as u64)
}

/// Sorts a reqwest error into a failure class, by walking its causes.
fn classify(url: &str, error: reqwest::Error) -> Error {
    let mut causes = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<safety::Refused>() {
            return Error::ForbiddenAddress {
                url: url.to_string(),
                reason: refused.to_string(),
            };
        }
        if let Some(failure) = cause.downcast_ref::<safety::DnsFailure>() {
            return Error::Dns {
                url: url.to_string(),
                message: failure.to_string(),
                cause: Some(std::sync::Arc::new(error)),
            };
        }
        causes.push(cause.to_string());
        source = cause.source();
    }
    let message = causes.last().cloned().unwrap_or_else(|| error.to_string());
    let all = causes.join(": ").to_ascii_lowercase();
    let timed_out = error.is_timeout();
    let cause: Option<crate::error::Cause> = Some(std::sync::Arc::new(error));
    if timed_out {
        Error::Timeout {
            url: url.to_string(),
            seconds: 0,
        }
    } else if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        Error::Tls {
            url: url.to_string(),
            message,
            cause,
        }
    } else {
        Error::Connect {
            url: url.to_string(),
            message,
            cause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_date() {
        assert_eq!(parse_retry_after("120"), Some(120));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
