//! Rendering pages that need JavaScript in a headless Chromium, driven over the DevTools
//! protocol (chromiumoxide on tokio) — and only when a document needs it.
//!
//! A [`BrowserPool`] starts no process until [`BrowserPool::render`] is first called; then it
//! launches one Chromium for the whole run (the executable from `browser.path`, else `CHROME` or
//! `CHROMIUM`, else the usual install places: see [`find_executable`]), in its own process
//! group, with a throw-away profile, and tied to policydiff's life (on Linux the kernel kills it
//! when policydiff dies, even by SIGKILL). Each document is rendered in a fresh incognito
//! context (no cookie or storage shared between documents) whose every request goes through
//! an [`EgressProxy`] of its own, which applies the address rules (a page sent to a refused
//! address fails as `forbidden_address`; refused images or scripts are left out and named in a
//! warning), at most `browser.concurrency` at once: the page loads, the declaration's `actions` run, then the pool waits until every
//! `select` selector (and each end of a range) exists with text, up to `browser.wait_timeout`,
//! and returns the rendered DOM ([`Rendered::Html`]), or says the browser landed on a PDF
//! ([`Rendered::Pdf`]), which the caller fetches as bytes. A browser that crashes is restarted
//! once; documents it was serving fail as `browser_crash`. [`BrowserPool::close`] ends the
//! process group; dropping the pool does too.
//!
//! ```no_run
//! # async fn example() -> policydiff::Result<()> {
//! use policydiff::fetch::{BrowserConfig, FetchConfig};
//! use policydiff::declaration::{Selector, SourceDocument};
//! use policydiff::fetch::browser::{BrowserPool, Rendered};
//!
//! let pool = BrowserPool::new(&BrowserConfig::default(), &FetchConfig::default());
//! let source = SourceDocument { fetch: "https://example.com/privacy".into(),
//!     select: vec![Selector::Css("main".into())], remove: vec![], filters: vec![],
//!     execute_client_scripts: Some(true), actions: vec![] };
//! if let Rendered::Html { html, .. } = pool.render(&source).await? {
//!     println!("{} bytes rendered", html.len());
//! }
//! pool.close().await;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chromiumoxide::Browser;
use chromiumoxide::cdp::browser_protocol::emulation::SetUserAgentOverrideParams;
use chromiumoxide::cdp::browser_protocol::inspector::{self, EventTargetCrashed};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use futures_util::StreamExt;
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex, Semaphore};

use super::egress::{EgressProxy, Refusal, Upstream};
use super::safety::{AddressPolicy, Refused};
use super::settings::{BrowserConfig, FetchConfig};
use crate::declaration::{Action, SourceDocument};
use crate::{Error, Result};

/// Where browsers are usually installed, tried in order after the configuration and the
/// environment.
const USUAL_PLACES: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/snap/bin/chromium",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/// How long a browser may take to start and open its DevTools endpoint.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the page is asked whether the declared content is there.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What a rendering gave.
#[derive(Debug, Clone)]
pub enum Rendered {
    /// The rendered DOM, serialized.
    Html {
        /// `<html>…</html>` as the page stands after scripts ran.
        html: String,
        /// The page's address after redirects.
        final_url: String,
    },
    /// The browser landed on a PDF: fetch these bytes over HTTP instead.
    Pdf {
        /// The PDF's address.
        final_url: String,
    },
}

/// The browser executable: `configured` (from `browser.path`), else `CHROME`, else `CHROMIUM`,
/// else the first of the usual install places that exists. The error says where it looked.
pub fn find_executable(configured: Option<&Path>) -> std::result::Result<PathBuf, String> {
    if let Some(path) = configured {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(format!("browser.path {} does not exist", path.display()))
        };
    }
    for variable in ["CHROME", "CHROMIUM"] {
        if let Some(value) = std::env::var_os(variable).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(value);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(format!(
                    "{variable} is set to {}, which does not exist",
                    path.display()
                ))
            };
        }
    }
    USUAL_PLACES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or_else(|| {
            format!(
                "no browser found (looked at browser.path, CHROME, CHROMIUM, {})",
                USUAL_PLACES.join(", ")
            )
        })
}

/// A running browser: its process group ends when this is dropped.
struct Running {
    /// Taken out only when closing.
    browser: Option<Arc<Browser>>,
    process: tokio::process::Child,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Running {
    fn process_group(&self) -> Option<i32> {
        self.process.id().map(|id| id as i32)
    }

    fn has_exited(&mut self) -> bool {
        !matches!(self.process.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handler.abort();
        if let Some(group) = self.process_group() {
            // SAFETY: kill(2) on the browser's own process group (it was started as leader).
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.process.try_wait();
    }
}

enum State {
    /// Not started yet, or to be restarted after a crash.
    Idle,
    /// Started and serving pages.
    Running(Box<Running>),
    /// Cannot be used in this run: why.
    Unavailable(String),
}

/// One lazily started browser for a run, shared by the documents that need it.
pub struct BrowserPool {
    config: BrowserConfig,
    accept_language: String,
    addresses: AddressPolicy,
    /// The proxy of `fetch.proxy`, or why the browser cannot use it.
    upstream: std::result::Result<Option<Upstream>, String>,
    page_timeout: Duration,
    state: Mutex<State>,
    crashes: std::sync::atomic::AtomicU32,
    pages: Semaphore,
    started: AtomicBool,
}

/// Why a rendering failed, before it becomes an [`Error`].
enum Failure {
    /// A declared element never appeared.
    Waited(String),
    /// The browser could not load the page (`net::ERR_…`).
    Navigation(String),
    /// The browser or the page stopped answering as expected.
    Browser(String),
    /// The page itself (or a redirect of it) is at an address the policy refuses.
    Refused(Refusal),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Browser(error.to_string())
    }
}

impl BrowserPool {
    /// A pool that will start a browser when first needed.
    pub fn new(config: &BrowserConfig, fetch: &FetchConfig) -> BrowserPool {
        BrowserPool {
            config: config.clone(),
            accept_language: fetch.accept_language.clone(),
            addresses: fetch.allow_private_addresses.clone(),
            upstream: fetch.proxy.as_deref().map(Upstream::parse).transpose(),
            page_timeout: fetch.timeout,
            state: Mutex::new(State::Idle),
            crashes: Default::default(),
            pages: Semaphore::new(config.concurrency.max(1)),
            started: AtomicBool::new(false),
        }
    }

    /// Whether a browser was started in this run.
    pub fn was_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Whether a browser can be found at all (without starting one).
    pub fn is_available(&self) -> bool {
        find_executable(self.config.path.as_deref()).is_ok()
    }

    /// Renders a source document's page; see the module overview.
    pub async fn render(&self, source: &SourceDocument) -> Result<Rendered> {
        let url = source.fetch.as_str();
        self.check_address(url).await?;
        if let Err(problem) = &self.upstream {
            return Err(Error::io(
                format!("cannot render '{url}'"),
                std::io::Error::other(problem.clone()),
            ));
        }
        let _permit = self
            .pages
            .acquire()
            .await
            .map_err(|_| Error::BrowserCrash {
                url: url.to_string(),
                detail: "the browser was closed".into(),
            })?;
        let browser = self.browser(url).await?;
        let limit = self.page_timeout + self.config.wait_timeout;
        let outcome = tokio::time::timeout(limit, self.render_in(&browser, source)).await;
        match outcome {
            Ok(Ok(Rendered::Html { html, final_url })) => {
                // A challenge the browser could not pass may still hold the selected element.
                match super::challenge::challenge(200, html.as_bytes(), url, &final_url) {
                    Some(what) => Err(Error::Blocked {
                        url: url.to_string(),
                        what: format!("{what} (in the browser)"),
                    }),
                    None => Ok(Rendered::Html { html, final_url }),
                }
            }
            Ok(Ok(rendered)) => Ok(rendered),
            Ok(Err(Failure::Waited(selector))) => Err(Error::RenderTimeout {
                url: url.to_string(),
                selector,
                seconds: self.config.wait_timeout.as_secs(),
            }),
            Ok(Err(Failure::Navigation(message))) => Err(Error::Connect {
                url: url.to_string(),
                message: format!("the browser could not load it: {message}"),
                cause: None,
            }),
            Ok(Err(Failure::Refused(refusal))) => Err(Error::ForbiddenAddress {
                url: url.to_string(),
                reason: format!(
                    "the browser was sent on to {}: {}",
                    refusal.target, refusal.reason
                ),
            }),
            Ok(Err(Failure::Browser(detail))) => {
                if self.forget_if_dead().await {
                    return Err(Error::BrowserCrash {
                        url: url.to_string(),
                        detail: format!("the browser process ended: {detail}"),
                    });
                }
                Err(Error::BrowserCrash {
                    url: url.to_string(),
                    detail,
                })
            }
            Err(_) => {
                self.forget_if_dead().await;
                Err(Error::Timeout {
                    url: url.to_string(),
                    seconds: limit.as_secs(),
                })
            }
        }
    }

    /// Ends the browser, if one was started: a polite close, then the whole process group.
    pub async fn close(&self) {
        let state = std::mem::replace(&mut *self.state.lock().await, State::Idle);
        if let State::Running(mut running) = state {
            // No page is in flight any more: ask the browser to quit, which also closes the
            // DevTools connection cleanly.
            if let Some(Ok(mut browser)) = running.browser.take().map(Arc::try_unwrap) {
                let _ = tokio::time::timeout(Duration::from_secs(3), browser.close()).await;
            }
            if let Some(group) = running.process_group() {
                // SAFETY: kill(2) on the browser's own process group.
                unsafe {
                    libc::kill(-group, libc::SIGTERM);
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(3), running.process.wait()).await;
            drop(running);
        }
    }

    /// The same address rules as plain HTTP fetching, for the page the browser is sent to,
    /// before a browser is started for it (the proxy checks again, and every other request).
    async fn check_address(&self, url: &str) -> Result<()> {
        let parsed = url::Url::parse(url).map_err(|e| Error::ForbiddenAddress {
            url: url.to_string(),
            reason: format!("not a valid URL: {e}"),
        })?;
        super::safety::check_target(&parsed, &self.addresses)?;
        let Some(url::Host::Domain(host)) = parsed.host() else {
            return Ok(());
        };
        // Through a proxy, names are the proxy's to resolve.
        if self.addresses.allows_everything() || matches!(self.upstream, Ok(Some(_))) {
            return Ok(());
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        match super::safety::resolve_permitted(host, port, &self.addresses).await {
            Ok(_) => Ok(()),
            Err(error) if error.is::<Refused>() => Err(Error::ForbiddenAddress {
                url: url.to_string(),
                reason: error.to_string(),
            }),
            Err(error) => Err(Error::Dns {
                url: url.to_string(),
                message: error.to_string(),
                cause: Some(std::sync::Arc::from(error)),
            }),
        }
    }

    /// The running browser, started if needed.
    async fn browser(&self, url: &str) -> Result<Arc<Browser>> {
        let mut state = self.state.lock().await;
        if let State::Running(running) = &mut *state
            && running.has_exited()
        {
            *state = self.after_crash();
        }
        match &*state {
            State::Running(running) => {
                if let Some(browser) = &running.browser {
                    return Ok(browser.clone());
                }
            }
            State::Unavailable(reason) => {
                return Err(self.unavailable(url, reason));
            }
            State::Idle => {}
        }
        match self.launch().await {
            Ok(running) => {
                self.started.store(true, Ordering::SeqCst);
                let browser = running.browser.clone();
                *state = State::Running(Box::new(running));
                browser.ok_or_else(|| Error::BrowserCrash {
                    url: url.to_string(),
                    detail: "the browser was closed".into(),
                })
            }
            Err(reason) => {
                tracing::warn!("cannot start a browser: {reason}");
                *state = State::Unavailable(reason.clone());
                Err(Error::NeedsBrowser {
                    url: url.to_string(),
                    reason,
                })
            }
        }
    }

    fn unavailable(&self, url: &str, reason: &str) -> Error {
        if self.crashes.load(Ordering::SeqCst) > 1 {
            Error::BrowserCrash {
                url: url.to_string(),
                detail: reason.to_string(),
            }
        } else {
            Error::NeedsBrowser {
                url: url.to_string(),
                reason: reason.to_string(),
            }
        }
    }

    /// After a crash: restart once per run, then give up.
    fn after_crash(&self) -> State {
        let crashes = self.crashes.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::warn!(crashes, "the browser crashed");
        if crashes > 1 {
            State::Unavailable("the browser crashed twice in this run".into())
        } else {
            State::Idle
        }
    }

    /// When the browser process has died, forgets it (so the next document restarts it once).
    async fn forget_if_dead(&self) -> bool {
        let mut state = self.state.lock().await;
        if let State::Running(running) = &mut *state
            && running.has_exited()
        {
            *state = self.after_crash();
            return true;
        }
        false
    }

    async fn launch(&self) -> std::result::Result<Running, String> {
        let executable = find_executable(self.config.path.as_deref())?;
        let profile = tempfile::Builder::new()
            .prefix("policydiff-browser-")
            .tempdir()
            .map_err(|e| format!("cannot create a browser profile folder: {e}"))?;
        let language = self
            .accept_language
            .split(',')
            .next()
            .unwrap_or("en")
            .split(';')
            .next()
            .unwrap_or("en")
            .trim()
            .to_string();
        let mut command = tokio::process::Command::new(&executable);
        command
            .args([
                "--headless=new",
                "--remote-debugging-port=0",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--disable-component-update",
                "--disable-crash-reporter",
                "--disable-breakpad",
                "--mute-audio",
                "--hide-scrollbars",
                // Every request goes through the document's egress proxy; WebRTC must not
                // open UDP paths around it.
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!(
                "--window-size={},{}",
                self.config.viewport.width, self.config.viewport.height
            ))
            .arg(format!("--lang={language}"));
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Chromium's sandbox refuses to run as root (containers).
            command.arg("--no-sandbox");
        }
        command
            .arg("about:blank")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the browser when
        // policydiff dies, so that no browser outlives a killed run.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut process = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", executable.display()))?;
        let stderr = process
            .stderr
            .take()
            .ok_or("the browser's error output is not readable")?;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let endpoint = tokio::time::timeout(START_TIMEOUT, async {
            let mut said = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(endpoint) = line.strip_prefix("DevTools listening on ") {
                    return Ok(endpoint.trim().to_string());
                }
                said.push(line);
            }
            Err(format!(
                "{} exited at start: {}",
                executable.display(),
                said.join(" / ")
            ))
        })
        .await
        .map_err(|_| {
            format!(
                "{} did not start within {}s",
                executable.display(),
                START_TIMEOUT.as_secs()
            )
        })??;
        // Keep reading what the browser says, so that its pipe never fills and blocks it.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::trace!(target: "policydiff::browser", "{line}");
            }
        });
        let (browser, mut handler) = Browser::connect(endpoint)
            .await
            .map_err(|e| format!("cannot connect to the browser: {e}"))?;
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        tracing::info!(browser = %executable.display(), "browser started");
        Ok(Running {
            browser: Some(Arc::new(browser)),
            process,
            handler,
            _profile: profile,
        })
    }

    async fn render_in(
        &self,
        browser: &Browser,
        source: &SourceDocument,
    ) -> std::result::Result<Rendered, Failure> {
        // Everything this document's page loads goes through a proxy of its own, which applies
        // the address policy; "<-loopback>" removes Chromium's implicit bypass for localhost.
        let upstream = self.upstream.clone().unwrap_or_default();
        let proxy = EgressProxy::start(self.addresses.clone(), self.page_timeout, upstream).await?;
        let context = browser
            .create_browser_context(
                CreateBrowserContextParams::builder()
                    .proxy_server(proxy.url())
                    .proxy_bypass_list("<-loopback>")
                    .build(),
            )
            .await?;
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()
            .map_err(Failure::Browser)?;
        let page = match browser.new_page(target).await {
            Ok(page) => page,
            Err(error) => {
                let _ = browser.dispose_browser_context(context).await;
                return Err(error.into());
            }
        };
        // A renderer that dies leaves calls unanswered: the crash event ends the wait.
        let mut crashed = match page.event_listener::<EventTargetCrashed>().await {
            Ok(events) => events,
            Err(error) => {
                let _ = browser.dispose_browser_context(context).await;
                return Err(error.into());
            }
        };
        let _ = page.execute(inspector::EnableParams::default()).await;
        let rendered = tokio::select! {
            rendered = self.load(&page, source, &proxy) => rendered,
            _ = crashed.next() => Err(Failure::Browser("the page's renderer crashed".into())),
        };
        let refusals = proxy.refusals();
        let rendered = if refusals.is_empty() {
            rendered
        } else {
            let landed_on = match &rendered {
                Err(Failure::Browser(_)) => None,
                _ => page.url().await.ok().flatten(),
            };
            judge_refusals(rendered, landed_on.as_deref(), refusals, &source.fetch)
        };
        let _ = page.close().await;
        let _ = browser.dispose_browser_context(context).await;
        rendered
    }

    async fn load(
        &self,
        page: &chromiumoxide::Page,
        source: &SourceDocument,
        proxy: &EgressProxy,
    ) -> std::result::Result<Rendered, Failure> {
        // The user agent (without "Headless", which sites treat as a robot) and the language,
        // which sets both the Accept-Language header and navigator.language(s).
        let user_agent = match &self.config.user_agent {
            Some(agent) => agent.clone(),
            None => page.user_agent().await?.replace("HeadlessChrome", "Chrome"),
        };
        let identity = SetUserAgentOverrideParams::builder()
            .user_agent(user_agent)
            .accept_language(self.accept_language.clone())
            .build()
            .map_err(Failure::Browser)?;
        page.execute(identity).await?;
        page.goto(source.fetch.as_str())
            .await
            .map_err(|error| match error {
                chromiumoxide::error::CdpError::ChromeMessage(message) => {
                    Failure::Navigation(message)
                }
                other => other.into(),
            })?;
        let content_type: String = page
            .evaluate("document.contentType")
            .await?
            .into_value()
            .unwrap_or_default();
        let final_url = page.url().await?.unwrap_or_else(|| source.fetch.clone());
        // Sent on to a refused address, the browser shows the proxy's refusal: no use waiting.
        if let Some(refusal) = refusal_of_page(&proxy.refusals(), &final_url) {
            return Err(Failure::Refused(refusal.clone()));
        }
        if content_type == "application/pdf" {
            return Ok(Rendered::Pdf { final_url });
        }
        let deadline = Instant::now() + self.config.wait_timeout;
        for action in &source.actions {
            match action {
                Action::Click(css) => {
                    wait_for(page, css, false, deadline).await?;
                    page.evaluate(format!(
                        "document.querySelector({}).click()",
                        serde_json::Value::from(css.as_str())
                    ))
                    .await?;
                }
                Action::WaitFor(css) => wait_for(page, css, true, deadline).await?,
            }
        }
        // The content the declaration selects; `remove` targets (banners) may never come.
        let mut wanted: Vec<&str> = Vec::new();
        for selector in &source.select {
            match selector {
                crate::declaration::Selector::Css(css) => wanted.push(css),
                crate::declaration::Selector::Range(range) => {
                    wanted.push(&range.start.css);
                    wanted.push(&range.end.css);
                }
            }
        }
        for css in wanted {
            wait_for(page, css, true, deadline).await?;
        }
        let html = page.content().await?;
        Ok(Rendered::Html { html, final_url })
    }
}

impl Drop for BrowserPool {
    fn drop(&mut self) {
        // Running's own Drop ends the process group.
        if let Ok(mut state) = self.state.try_lock() {
            *state = State::Idle;
        }
    }
}

/// What the proxy's refusals mean for a rendering: when the page itself was refused (the
/// navigation failed, or the page the browser landed on is at a refused address), the document
/// fails; otherwise only some of what the page loads was refused, which is said and the
/// rendering kept.
fn judge_refusals(
    rendered: std::result::Result<Rendered, Failure>,
    landed_on: Option<&str>,
    refusals: Vec<Refusal>,
    document: &str,
) -> std::result::Result<Rendered, Failure> {
    if let Some(refusal) = landed_on.and_then(|url| refusal_of_page(&refusals, url)) {
        return Err(Failure::Refused(refusal.clone()));
    }
    if matches!(rendered, Err(Failure::Navigation(_))) {
        return Err(Failure::Refused(refusals[0].clone()));
    }
    let mut targets: Vec<&str> = refusals.iter().map(|r| r.target.as_str()).collect();
    targets.dedup();
    tracing::warn!(
        url = document,
        refused = targets.join(", "),
        "the page asked for addresses that fetch.allow_private_addresses does not allow; they were not loaded"
    );
    rendered
}

/// The refusal of the address a page is at, if it was refused.
fn refusal_of_page<'a>(refusals: &'a [Refusal], page_url: &str) -> Option<&'a Refusal> {
    let url = url::Url::parse(page_url).ok()?;
    let authority = format!("{}:{}", url.host_str()?, url.port_or_known_default()?);
    refusals
        .iter()
        .find(|refusal| refusal.authority == authority)
}

/// Waits until an element matching `css` exists (and has text, if asked), until `deadline`.
async fn wait_for(
    page: &chromiumoxide::Page,
    css: &str,
    needs_text: bool,
    deadline: Instant,
) -> std::result::Result<(), Failure> {
    let probe = format!(
        "(() => {{ const e = document.querySelector({}); return !!e && (!{} || e.textContent.trim().length > 0); }})()",
        serde_json::Value::from(css),
        needs_text
    );
    loop {
        let found: bool = page
            .evaluate(probe.as_str())
            .await?
            .into_value()
            .unwrap_or(false);
        if found {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Failure::Waited(format!("{css:?}")));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
