//! The fetcher's settings: the `fetch` and `browser` sections of `config.yaml`.
//!
//! They live with the stage that uses them, so that [`crate::fetch`] needs nothing from
//! [`crate::config`]; the configuration assembles them (and re-exports them).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// How pages are fetched.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// `User-Agent` header.
    pub user_agent: String,
    /// `Accept-Language` header.
    pub accept_language: String,
    /// Time limit of one whole request (connection, redirects and body).
    #[serde(deserialize_with = "crate::units::duration")]
    pub timeout: Duration,
    /// Further attempts after a transient failure.
    pub retries: u32,
    /// Documents in flight at once.
    pub concurrency: usize,
    /// Requests in flight at once per host.
    pub per_host: usize,
    /// Minimum pause between two requests to one host.
    #[serde(deserialize_with = "crate::units::duration")]
    pub per_host_delay: Duration,
    /// Largest body accepted (after decompression), in bytes.
    #[serde(deserialize_with = "crate::units::size")]
    pub max_body: u64,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Proxy URL (HTTP(S)_PROXY are honoured too).
    pub proxy: Option<String>,
    /// Which loopback, private and link-local addresses may be reached: none (`false`), all
    /// (`true`, for tests) or a list of addresses and networks (intranets).
    pub allow_private_addresses: super::safety::AddressPolicy,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: format!(
                "Mozilla/5.0 (compatible; policydiff/{}; +https://opentermsarchive.org)",
                env!("CARGO_PKG_VERSION")
            ),
            accept_language: "en".into(),
            timeout: Duration::from_secs(30),
            retries: 2,
            concurrency: 8,
            per_host: 1,
            per_host_delay: Duration::from_secs(1),
            max_body: 20 * 1024 * 1024,
            max_redirects: 10,
            proxy: None,
            allow_private_addresses: Default::default(),
        }
    }
}

/// The headless browser (Chromium, driven over the DevTools protocol).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserConfig {
    /// The browser executable (default: `CHROME` or `CHROMIUM`, else the usual install places).
    pub path: Option<PathBuf>,
    /// How long to wait, after the page loaded, for the declared content to appear.
    #[serde(deserialize_with = "crate::units::duration")]
    pub wait_timeout: Duration,
    /// Pages rendered at once.
    pub concurrency: usize,
    /// Window size, in CSS pixels.
    pub viewport: Viewport,
    /// User agent of the browser (default: the browser's own).
    pub user_agent: Option<String>,
}

/// A window size.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Viewport {
    /// Width in CSS pixels.
    pub width: u32,
    /// Height in CSS pixels.
    pub height: u32,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        BrowserConfig {
            path: None,
            wait_timeout: Duration::from_secs(10),
            concurrency: 2,
            viewport: Viewport {
                width: 1280,
                height: 1024,
            },
            user_agent: None,
        }
    }
}
