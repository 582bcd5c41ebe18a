//! Failures, as data.
//!
//! Every way a document can fail is one variant of [`Error`]. Each variant has a
//! [`FailureClass`], whose serialized name (`no_match`, `empty`, …) is what run
//! reports and notifications show, so that failures can be counted and
//! followed over time. Every message says what went wrong *and* what to do.
//!
//! ```
//! use policydiff::{Error, FailureClass};
//!
//! let error = Error::NoMatch {
//!     selector: "#content".into(),
//!     url: "https://example.com/privacy".into(),
//! };
//! assert_eq!(error.class(), FailureClass::NoMatch);
//! assert!(error.to_string().contains("#content"));
//! ```

use serde::{Deserialize, Serialize};

/// The class of a failure, as it appears in reports (`error_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The declaration itself is malformed.
    InvalidDeclaration,
    /// A content selector (or one end of a range) matched nothing.
    NoMatch,
    /// The selection exists but holds no text.
    Empty,
    /// A PDF without extractable text (scanned images, or not a PDF at all).
    PdfNoText,
    /// The page is too large or too deeply nested to process safely.
    TooLarge,
    /// A local file or tool could not be read or run.
    Io,
    /// The host name does not resolve.
    Dns,
    /// The connection could not be made or was lost.
    Connect,
    /// The request took longer than `fetch.timeout`.
    Timeout,
    /// The TLS handshake or certificate failed.
    Tls,
    /// The server answered with an error status.
    HttpStatus,
    /// An anti-bot challenge, captcha or login wall instead of the document.
    Blocked,
    /// A redirect loop or a chain longer than `fetch.max_redirects`.
    TooManyRedirects,
    /// A target refused for safety: private, loopback or link-local address, or not http(s).
    ForbiddenAddress,
    /// The document needs a browser (`executeClientScripts`) and none is available.
    NeedsBrowser,
    /// The browser or its page renderer crashed while rendering the document.
    BrowserCrash,
    /// Another run holds the versions repository.
    Locked,
    /// `config.yaml` (or a schedule in it) is invalid.
    InvalidConfig,
    /// A command-line argument is wrong (a date, a document the repository does not hold).
    InvalidArgument,
    /// The versions repository cannot be read or written (git), other than for a system reason.
    Repository,
    /// A page or text holds a SHA-1 collision attack, which git cannot store safely: refused.
    CollisionAttack,
    /// A memo quotes words that the versions it describes do not hold.
    UnverifiedQuotation,
    /// Pushing the versions to the publishing remote failed (unreachable, refused, credentials).
    PublishFailed,
    /// The publishing remote holds commits the versions repository does not: never overwritten.
    PublishDiverged,
    /// A bug in policydiff (a panicked thread, a broken invariant): please report it.
    Internal,
}

impl FailureClass {
    /// The serialized name, as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::InvalidDeclaration => "invalid_declaration",
            FailureClass::NoMatch => "no_match",
            FailureClass::Empty => "empty",
            FailureClass::PdfNoText => "pdf_no_text",
            FailureClass::TooLarge => "too_large",
            FailureClass::Io => "io",
            FailureClass::Dns => "dns",
            FailureClass::Connect => "connect",
            FailureClass::Timeout => "timeout",
            FailureClass::Tls => "tls",
            FailureClass::HttpStatus => "http_status",
            FailureClass::Blocked => "blocked",
            FailureClass::TooManyRedirects => "too_many_redirects",
            FailureClass::ForbiddenAddress => "forbidden_address",
            FailureClass::NeedsBrowser => "needs_browser",
            FailureClass::BrowserCrash => "browser_crash",
            FailureClass::Locked => "locked",
            FailureClass::InvalidConfig => "invalid_config",
            FailureClass::InvalidArgument => "invalid_argument",
            FailureClass::Repository => "repository",
            FailureClass::CollisionAttack => "collision_attack",
            FailureClass::UnverifiedQuotation => "unverified_quotation",
            FailureClass::PublishFailed => "publish_failed",
            FailureClass::PublishDiverged => "publish_diverged",
            FailureClass::Internal => "internal",
        }
    }
}

impl std::fmt::Display for FailureClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem of `config.yaml`, naming the file and the key (see [`crate::config`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    /// The configuration file.
    pub file: String,
    /// The key path and what is wrong with it.
    pub message: String,
}

/// The underlying error of a network failure, kept for its chain of causes.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in policydiff's library.
///
/// New variants may be added: match on [`Error::class`] rather than on every variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A declaration file could not be used; the problems name file, terms type and field.
    #[error("invalid declaration: {}; fix the declaration (run `policydiff validate` for every problem)", .problems.join("; "))]
    InvalidDeclaration {
        /// One line per problem, already located.
        problems: Vec<String>,
    },

    /// A document named on the command line is not declared.
    #[error(
        "no declared document matches {wanted:?} in {folder}; name documents as SERVICE or SERVICE/TERMS TYPE, as declared"
    )]
    UnknownDocument {
        /// What was asked for.
        wanted: String,
        /// The declarations folder.
        folder: String,
    },

    /// A CSS selector of the rules does not parse.
    #[error("invalid CSS selector {selector:?}: {reason}; correct the selector in the declaration")]
    InvalidSelector {
        /// The selector as written.
        selector: String,
        /// What the CSS parser objected to.
        reason: String,
    },

    /// No element matches the content selectors.
    #[error(
        "the selector {selector} has no match in the web page at '{url}'; check that the page still \
         has this structure, or that `remove` does not remove what `select` selects"
    )]
    NoMatch {
        /// The selectors, as declared.
        selector: String,
        /// The page location.
        url: String,
    },

    /// One end of a range selector matches nothing.
    #[error(
        "the \"{end}\" selector {selector:?} of the range {range} has no match in the web page at '{url}'; \
         update the range in the declaration"
    )]
    RangeNoMatch {
        /// `start` or `end`.
        end: &'static str,
        /// The CSS selector of that end.
        selector: String,
        /// The whole range, as JSON.
        range: String,
        /// The page location.
        url: String,
    },

    /// The selection holds no text once converted.
    #[error(
        "the selector {selector} matches an empty content in the web page at '{url}'; the page may \
         now render its text with JavaScript (set `executeClientScripts`) or have moved it"
    )]
    EmptyContent {
        /// The selectors, as declared.
        selector: String,
        /// The page location.
        url: String,
    },

    /// A PDF without text.
    #[error(
        "the PDF file at '{url}' contains no text ({reason}); it might contain scanned images of text \
         instead of actual text"
    )]
    PdfNoText {
        /// The document location.
        url: String,
        /// Why no text came out.
        reason: String,
    },

    /// A page beyond what can be processed safely.
    #[error(
        "the page at '{url}' is beyond what can be extracted safely: {reason}; real policy pages are far \
         smaller, so check what the address serves (an error page, a feed, an attack)"
    )]
    TooLarge {
        /// The page location.
        url: String,
        /// Which limit was passed.
        reason: String,
    },

    /// The host name does not resolve.
    #[error(
        "cannot resolve the host of '{url}': {message}; check the address in the declaration and the machine's DNS"
    )]
    Dns {
        /// The URL fetched.
        url: String,
        /// The resolver's words.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        cause: Option<Cause>,
    },

    /// No connection, or the connection was lost.
    #[error("cannot connect to '{url}': {message}; the site may be down, retry later")]
    Connect {
        /// The URL fetched.
        url: String,
        /// What happened.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        cause: Option<Cause>,
    },

    /// The whole request took too long.
    #[error(
        "'{url}' did not answer within {seconds}s; raise `fetch.timeout` if the site is just slow"
    )]
    Timeout {
        /// The URL fetched.
        url: String,
        /// The limit.
        seconds: u64,
    },

    /// TLS failed.
    #[error("TLS failed for '{url}': {message}; the site's certificate may be invalid or expired")]
    Tls {
        /// The URL fetched.
        url: String,
        /// The TLS library's words.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        cause: Option<Cause>,
    },

    /// An error status.
    #[error("'{url}' answered HTTP {status}{}; {}", .retry_after.map(|s| format!(" (retry after {s}s)")).unwrap_or_default(), status_advice(*.status))]
    HttpStatus {
        /// The URL fetched.
        url: String,
        /// The status code.
        status: u16,
        /// Seconds the server asked to wait, if it said.
        retry_after: Option<u64>,
    },

    /// A challenge page instead of the document.
    #[error(
        "'{url}' served {what} instead of the document; nothing was recorded. Try again later, or fetch it with a browser (`executeClientScripts: true`)"
    )]
    Blocked {
        /// The URL fetched.
        url: String,
        /// Which protection was recognised.
        what: String,
    },

    /// Too many redirects.
    #[error(
        "'{url}' redirects more than {limit} times (or in a loop); check the address in the declaration"
    )]
    TooManyRedirects {
        /// The URL fetched.
        url: String,
        /// The limit.
        limit: usize,
    },

    /// A refused target.
    #[error(
        "refused to fetch '{url}': {reason}; if it is an intranet page meant to be tracked, list its address or network under `fetch.allow_private_addresses`"
    )]
    ForbiddenAddress {
        /// The URL refused.
        url: String,
        /// Why.
        reason: String,
    },

    /// The body is empty.
    #[error("'{url}' answered with an empty body; the page may be temporarily broken")]
    EmptyBody {
        /// The URL fetched.
        url: String,
    },

    /// A browser is needed.
    #[error(
        "'{url}' needs a browser (it renders its text with JavaScript) and none is available: {reason}. Install Chromium (Debian/Ubuntu: `apt-get install chromium`; macOS: `brew install --cask chromium`) or set `browser.path` in config.yaml"
    )]
    NeedsBrowser {
        /// The URL.
        url: String,
        /// Why no browser could be used.
        reason: String,
    },

    /// The browser crashed.
    #[error(
        "the browser crashed while rendering '{url}' ({detail}); the other documents go on, and the next round tries again"
    )]
    BrowserCrash {
        /// The URL.
        url: String,
        /// What was seen.
        detail: String,
    },

    /// The declared content never appeared in the rendered page.
    #[error(
        "'{url}' did not render {selector} within {seconds}s in the browser; check the selector against the page, or raise `browser.wait_timeout`"
    )]
    RenderTimeout {
        /// The URL.
        url: String,
        /// The selector waited for.
        selector: String,
        /// The wait.
        seconds: u64,
    },

    /// Another run holds the repository's lock.
    #[error(
        "the versions repository {path} is in use by another policydiff run (process {holder}); wait for it to finish, or run again later"
    )]
    Locked {
        /// The repository.
        path: String,
        /// The process id written by the holder.
        holder: String,
    },

    /// Another daemon runs on the same state folder.
    #[error(
        "another policydiff daemon (process {holder}) already runs with the state folder {state}; stop it first, or give this one another configuration"
    )]
    DaemonRunning {
        /// The state folder.
        state: String,
        /// The process id written by the holder.
        holder: String,
    },

    /// `config.yaml` is invalid: the file and the key path say where.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// A schedule of `config.yaml` is invalid.
    #[error(
        "schedule[{index}] of config.yaml: {reason}; correct the cron expression or the time zone"
    )]
    Schedule {
        /// Its position in the list of schedules.
        index: usize,
        /// What is wrong.
        reason: String,
    },

    /// A command-line argument cannot be used.
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong and what to give instead.
        message: String,
    },

    /// The versions repository cannot be read or written, for a reason git gives.
    #[error(
        "{context}: {message}; check the repository with `policydiff verify` (and `git fsck`), or restore it from a copy"
    )]
    Repository {
        /// What was being done.
        context: String,
        /// git's words.
        message: String,
    },

    /// A document's page (or the text extracted from it) holds the blocks of a SHA-1 collision
    /// attack: content made so that a second, different content gets the same git object id.
    #[error(
        "{document}: {what} holds a SHA-1 collision attack (blocks crafted so that other content can claim its git object id {id}); nothing was recorded for it, since git could then take one version for another: keep a copy of the page as evidence and report it; the document is recorded again once its page no longer holds such blocks"
    )]
    CollisionAttack {
        /// The document (`<service> <terms type>`).
        document: String,
        /// Which content: the extracted text, or a source by its place in the declaration.
        what: String,
        /// The object id the content would have had.
        id: String,
    },

    /// A memo to approve quotes text that neither version of its change holds.
    #[error(
        "memo {memo} quotes text that is not in the versions it describes: {}; correct each quotation to the policy's exact words (`policydiff review edit {memo}`), or approve with --force if the words are yours and not presented as the policy's",
        .quotations.iter().map(|q| format!("“{q}”")).collect::<Vec<_>>().join(", ")
    )]
    UnverifiedQuotation {
        /// The memo's id.
        memo: String,
        /// The quotations not found.
        quotations: Vec<String>,
    },

    /// The versions could not be pushed to the publishing remote.
    #[error(
        "cannot push the versions to {remote}: {reason}; nothing recorded is lost (the next round pushes every unpushed commit): check the remote's address and credentials (`publish` in config.yaml), then run `policydiff publish`"
    )]
    PublishFailed {
        /// The remote, without any credentials its address held.
        remote: String,
        /// Why, in git's words.
        reason: String,
    },

    /// The publishing remote's branch has commits that the versions repository does not.
    #[error(
        "{remote} has commits on branch {branch} that are not in the versions repository, and policydiff never overwrites a remote's history: see them with `git -C SNAPSHOTS fetch {remote} {branch} && git -C SNAPSHOTS log HEAD..FETCH_HEAD`, then remove them from the remote (or publish to another branch, `publish.branch`) and run `policydiff publish`"
    )]
    PublishDiverged {
        /// The remote, without credentials.
        remote: String,
        /// The remote branch.
        branch: String,
    },

    /// A bug: a thread panicked or an invariant broke.
    #[error(
        "internal error in policydiff ({context}: {detail}); this is a bug: please report it, with the document or command that caused it"
    )]
    Internal {
        /// What was being done.
        context: String,
        /// What was seen.
        detail: String,
    },

    /// A file or an external tool could not be used.
    #[error("{context}: {source}{}", io_advice(source))]
    Io {
        /// What was being done, naming the file or tool.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// The failure class shown in reports.
    pub fn class(&self) -> FailureClass {
        match self {
            Error::InvalidDeclaration { .. }
            | Error::InvalidSelector { .. }
            | Error::UnknownDocument { .. } => FailureClass::InvalidDeclaration,
            Error::NoMatch { .. } | Error::RangeNoMatch { .. } => FailureClass::NoMatch,
            Error::EmptyContent { .. } => FailureClass::Empty,
            Error::PdfNoText { .. } => FailureClass::PdfNoText,
            Error::TooLarge { .. } => FailureClass::TooLarge,
            Error::Io { .. } => FailureClass::Io,
            Error::Dns { .. } => FailureClass::Dns,
            Error::Connect { .. } => FailureClass::Connect,
            Error::Timeout { .. } => FailureClass::Timeout,
            Error::Tls { .. } => FailureClass::Tls,
            Error::HttpStatus { .. } => FailureClass::HttpStatus,
            Error::Blocked { .. } => FailureClass::Blocked,
            Error::TooManyRedirects { .. } => FailureClass::TooManyRedirects,
            Error::ForbiddenAddress { .. } => FailureClass::ForbiddenAddress,
            Error::EmptyBody { .. } => FailureClass::Empty,
            Error::NeedsBrowser { .. } => FailureClass::NeedsBrowser,
            Error::BrowserCrash { .. } => FailureClass::BrowserCrash,
            Error::RenderTimeout { .. } => FailureClass::Timeout,
            Error::Locked { .. } | Error::DaemonRunning { .. } => FailureClass::Locked,
            Error::Config(_) | Error::Schedule { .. } => FailureClass::InvalidConfig,
            Error::InvalidArgument { .. } => FailureClass::InvalidArgument,
            Error::Repository { .. } => FailureClass::Repository,
            Error::CollisionAttack { .. } => FailureClass::CollisionAttack,
            Error::UnverifiedQuotation { .. } => FailureClass::UnverifiedQuotation,
            Error::PublishFailed { .. } => FailureClass::PublishFailed,
            Error::PublishDiverged { .. } => FailureClass::PublishDiverged,
            Error::Internal { .. } => FailureClass::Internal,
        }
    }

    /// Whether trying again soon may succeed (timeouts, lost connections, 429, 502, 503, 504).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Connect { .. } => true,
            Error::HttpStatus { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The exit status of a command that ends with this error: 3 when another run holds the
    /// repository or the state folder, 2 for usage and configuration errors (the command
    /// cannot work as given), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self.class() {
            FailureClass::Locked => 3,
            FailureClass::InvalidDeclaration
            | FailureClass::InvalidConfig
            | FailureClass::InvalidArgument => 2,
            _ => 1,
        }
    }

    /// A command-line argument that cannot be used.
    pub fn argument(message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            message: message.into(),
        }
    }

    /// A panicked or cancelled worker thread.
    pub fn internal(context: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Error::Internal {
            context: context.into(),
            detail: detail.to_string(),
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// What to do about a failed file operation, when its kind says.
fn io_advice(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            "; check that the user running policydiff may read and write there (owner, permissions, a read-only mount)"
        }
        std::io::ErrorKind::StorageFull
        | std::io::ErrorKind::QuotaExceeded
        | std::io::ErrorKind::FileTooLarge => {
            "; the disk is full or a size limit was reached: free some space and run again"
        }
        _ => "",
    }
}

fn status_advice(status: u16) -> &'static str {
    match status {
        404 | 410 => "the document has moved or was removed: update the declaration's `fetch` URL",
        401 | 403 => "access is refused; the site may block automated requests",
        429 => "the site limits requests; lower `fetch.per_host` or raise `fetch.per_host_delay`",
        500..=599 => "the site has a server problem; it is retried on the next run",
        _ => "check the address in the declaration",
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
