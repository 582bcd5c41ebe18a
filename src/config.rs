//! `config.yaml` → typed settings.
//!
//! Every key is optional; unknown keys are errors naming their path
//! (`fetch.timout: unknown field …`). Durations are written `30s`, `500ms`, `2m`, `1h`;
//! sizes `20MB`, `512KB`, `1GB` (binary multiples) or a plain number of bytes. Relative
//! paths are taken from the folder of the configuration file.
//!
//! ```
//! use policydiff::config::Config;
//!
//! let config = Config::from_yaml("fetch:\n  timeout: 5s\n  max_body: 2MB\n", ".".as_ref()).unwrap();
//! assert_eq!(config.fetch.timeout.as_secs(), 5);
//! assert_eq!(config.fetch.max_body, 2 * 1024 * 1024);
//! assert_eq!(config.fetch.per_host, 1);
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

pub use crate::error::ConfigError;
pub use crate::fetch::settings::{BrowserConfig, FetchConfig, Viewport};
use crate::units::duration;
pub use crate::units::{parse_duration, parse_size};

/// All settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Folder of declarations.
    pub declarations: PathBuf,
    /// The versions repository.
    pub snapshots: PathBuf,
    /// Folder for run reports and held-back changes (outside the versions repository).
    pub state: PathBuf,
    /// Who commits versions.
    pub author: Author,
    /// HTTP behaviour.
    pub fetch: FetchConfig,
    /// Recording behaviour.
    pub record: RecordConfig,
    /// Change memos.
    pub memos: MemoConfig,
    /// When the daemon runs rounds: one schedule or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub schedule: Vec<crate::schedule::ScheduleSpec>,
    /// Daemon behaviour.
    pub daemon: DaemonConfig,
    /// Notifications after each round.
    pub notify: NotifyConfig,
    /// The headless browser for pages that render their text with JavaScript.
    pub browser: BrowserConfig,
    /// Policy fact rules added to (or replacing, by id) the built-in ones; a `facts.yaml`
    /// beside the configuration adds its rules after these.
    pub facts: Vec<crate::facts::rules::FactRule>,
    /// Where the versions are pushed after each round (absent: nowhere).
    pub publish: Option<crate::publish::PublishConfig>,
}

/// Notifications.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Keep `<memos>/feed.xml` (Atom) up to date.
    pub feed: bool,
    /// URLs that receive `{round, memos, failures}` as JSON after each round with news.
    pub webhooks: Vec<Webhook>,
    /// Consecutive failed rounds after which a document is reported as failing persistently.
    pub failure_streak: usize,
    /// Only memos at least this significant are announced.
    pub min_significance: f64,
    /// Only memos with one of these topics are announced (empty: all).
    pub topics: Vec<String>,
    /// An e-mail digest after each round with news.
    pub email: Option<EmailConfig>,
    /// Webhooks and e-mail announce memos when a reviewer publishes them, not when drafted.
    pub only_published: bool,
}

/// SMTP settings of the e-mail digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// SMTP server.
    pub host: String,
    /// Port (default: 587 with STARTTLS, 465 with TLS, 25 without).
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (only for a server on this machine).
    #[serde(default = "default_security")]
    pub security: String,
    /// Login, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Sender, as `Name <address>` or an address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
}

fn default_security() -> String {
    "starttls".into()
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            feed: true,
            webhooks: Vec::new(),
            failure_streak: 3,
            min_significance: 0.0,
            topics: Vec::new(),
            email: None,
            only_published: false,
        }
    }
}

/// A webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Where to POST.
    pub url: String,
    /// Name of the environment variable holding a bearer token (secrets stay out of this file).
    #[serde(default)]
    pub token_env: Option<String>,
}

/// How the daemon stops.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// After SIGINT/SIGTERM, how long a round may take to record what is fetched before exiting.
    #[serde(deserialize_with = "duration")]
    pub stop_timeout: Duration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            stop_timeout: Duration::from_secs(30),
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<crate::schedule::ScheduleSpec>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(crate::schedule::ScheduleSpec),
        Many(Vec<crate::schedule::ScheduleSpec>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

impl Config {
    /// Publishing as this configuration sets it (`None` without `publish:`).
    pub fn publisher(&self) -> Option<crate::publish::Publisher<'_>> {
        self.publish
            .as_ref()
            .map(|settings| crate::publish::Publisher {
                settings,
                snapshots: &self.snapshots,
                state: &self.state,
            })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            declarations: "declarations".into(),
            snapshots: "snapshots".into(),
            state: ".policydiff".into(),
            author: Author::default(),
            fetch: FetchConfig::default(),
            record: RecordConfig::default(),
            memos: MemoConfig::default(),
            schedule: vec![crate::schedule::ScheduleSpec {
                cron: "0 6,18 * * *".into(),
                ..Default::default()
            }],
            daemon: DaemonConfig::default(),
            notify: NotifyConfig::default(),
            browser: BrowserConfig::default(),
            facts: Vec::new(),
            publish: None,
        }
    }
}

pub use crate::memo::MemoConfig;

/// Name and e-mail of the commits' author.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Author {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

impl Default for Author {
    fn default() -> Self {
        Author {
            name: "policydiff".into(),
            email: "policydiff@localhost".into(),
        }
    }
}

/// How versions are recorded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordConfig {
    /// A change deleting more than this share of the text is held back until seen twice.
    pub suspicious_shrink: f64,
    /// Keep the versions repository's files checked out (browsable as files). `false` records
    /// into git only — the fastest, for collections read through git, `show` or a published
    /// remote — and leaves the folder's files as they are.
    pub working_tree: bool,
    /// After a round that recorded something, let git pack the repository when it decides it
    /// should (`git gc --auto`: thousands of loose objects, or tens of packs), so that it stays
    /// compact over years. Needs the `git` program (without it, each round warns and goes on).
    pub maintenance: bool,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            suspicious_shrink: 0.8,
            working_tree: true,
            maintenance: true,
        }
    }
}

impl Config {
    /// Reads a configuration text; relative paths are taken from `base`.
    pub fn from_yaml(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let error = |message: String| ConfigError {
            file: base.join("config.yaml").display().to_string(),
            message,
        };
        // Through a generic value first, so that the key path of a bad value can be named.
        let value: serde_yaml::Value =
            crate::yaml::from_str(text).map_err(|e| error(e.to_string()))?;
        let mut config: Config = if value.is_null() {
            Config::default()
        } else {
            serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                if path == "." {
                    error(inner)
                } else {
                    error(format!("{path}: {inner}"))
                }
            })?
        };
        config.check().map_err(error)?;
        let facts_file = base.join("facts.yaml");
        if let Ok(text) = std::fs::read_to_string(&facts_file) {
            let rules = crate::facts::rules::parse_rules(&text).map_err(|message| ConfigError {
                file: facts_file.display().to_string(),
                message,
            })?;
            config.facts.extend(rules);
            crate::facts::rules::Rules::with_additions(&config.facts).map_err(|e| ConfigError {
                file: facts_file.display().to_string(),
                message: e.to_string(),
            })?;
        } else {
            crate::facts::rules::Rules::with_additions(&config.facts)
                .map_err(|e| error(format!("facts: {e}")))?;
        }
        for path in [
            &mut config.declarations,
            &mut config.snapshots,
            &mut config.state,
            &mut config.memos.dir,
        ] {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
        Ok(config)
    }

    /// Reads `path`, or `config.yaml` in the current folder when it exists, else the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from("config.yaml"), false),
        };
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Absolute, so that reports name files wherever they are read from.
        let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
        let base = base.as_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::from_yaml(&text, base).map_err(|mut e| {
                // Problems of config.yaml name the file as given; those of facts.yaml keep theirs.
                if Path::new(&e.file) == base.join("config.yaml") {
                    e.file = path.display().to_string();
                }
                e
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Config::from_yaml("", base)
            }
            Err(e) => Err(ConfigError {
                file: path.display().to_string(),
                message: format!("cannot read the configuration: {e}"),
            }),
        }
    }

    fn check(&self) -> Result<(), String> {
        let f = &self.fetch;
        if f.concurrency == 0 {
            return Err("fetch.concurrency: must be at least 1".into());
        }
        if f.per_host == 0 {
            return Err("fetch.per_host: must be at least 1".into());
        }
        if f.timeout.is_zero() {
            return Err("fetch.timeout: must be more than 0s".into());
        }
        if f.max_body == 0 {
            return Err("fetch.max_body: must be more than 0".into());
        }
        if !(0.0..=1.0).contains(&self.record.suspicious_shrink) {
            return Err(
                "record.suspicious_shrink: must be between 0 and 1 (a share of the text)".into(),
            );
        }
        if self.author.name.chars().any(char::is_control)
            || self.author.email.chars().any(char::is_control)
        {
            return Err("author: name and email must not contain control characters".into());
        }
        if self.notify.failure_streak == 0 {
            return Err("notify.failure_streak: must be at least 1".into());
        }
        for (index, hook) in self.notify.webhooks.iter().enumerate() {
            url::Url::parse(&hook.url).map_err(|e| {
                format!(
                    "notify.webhooks[{index}].url: {:?} is not a URL: {e}",
                    hook.url
                )
            })?;
        }
        if let Some(email) = &self.notify.email {
            if !matches!(email.security.as_str(), "starttls" | "tls" | "none") {
                return Err(format!(
                    "notify.email.security: {:?} is not one of starttls, tls, none",
                    email.security
                ));
            }
            if email.to.is_empty() {
                return Err("notify.email.to: give at least one recipient".into());
            }
            #[cfg(feature = "smtp")]
            for address in std::iter::once(&email.from).chain(&email.to) {
                address.parse::<lettre::message::Mailbox>().map_err(|e| {
                    format!("notify.email: {address:?} is not an e-mail address: {e}")
                })?;
            }
            #[cfg(not(feature = "smtp"))]
            return Err(
                "notify.email: this policydiff was built without the `smtp` feature; rebuild it with default features, or remove notify.email".into(),
            );
        }
        if self.schedule.is_empty() {
            return Err("schedule: give at least one {cron: …} schedule".into());
        }
        for (index, spec) in self.schedule.iter().enumerate() {
            crate::schedule::Schedule::from_spec(spec)
                .map_err(|e| format!("schedule[{index}]: {e}"))?;
        }
        if let Some(template) = &self.memos.commit_url
            && !template.contains("{commit}")
        {
            return Err("memos.commit_url: must contain {commit}, where the commit id goes".into());
        }
        if let Some(proxy) = &f.proxy {
            url::Url::parse(proxy)
                .map_err(|e| format!("fetch.proxy: {proxy:?} is not a URL: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("512KB").unwrap(), 512 * 1024);
        assert_eq!(parse_size("20MB").unwrap(), 20 * 1024 * 1024);
        // Found by fuzzing: a duration too large for the clock panicked.
        assert!(parse_duration("800000000000000000000000000000000s").is_err());
        assert!(
            parse_duration("400d")
                .unwrap_err()
                .contains("longer than a year")
        );
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn errors_name_the_key_path() {
        let error = Config::from_yaml("fetch:\n  timout: 5s\n", Path::new(".")).unwrap_err();
        assert!(error.message.starts_with("fetch"), "{error}");
        assert!(error.message.contains("unknown field `timout`"), "{error}");
        let error = Config::from_yaml("fetch:\n  timeout: soon\n", Path::new(".")).unwrap_err();
        assert!(error.message.contains("fetch.timeout"), "{error}");
        let error = Config::from_yaml("fetch:\n  retries: many\n", Path::new(".")).unwrap_err();
        assert!(error.message.contains("fetch.retries"), "{error}");
        let error = Config::from_yaml("colour: blue\n", Path::new(".")).unwrap_err();
        assert!(error.message.contains("unknown field `colour`"), "{error}");
    }

    #[test]
    fn defaults_and_relative_paths() {
        let config = Config::from_yaml("", Path::new("/srv/policies")).unwrap();
        assert_eq!(config.snapshots, Path::new("/srv/policies/snapshots"));
        assert_eq!(config.fetch.timeout, Duration::from_secs(30));
        assert_eq!(config.fetch.retries, 2);
        assert_eq!(config.fetch.concurrency, 8);
        assert_eq!(config.fetch.per_host_delay, Duration::from_secs(1));
        assert_eq!(
            config.fetch.allow_private_addresses,
            crate::fetch::safety::AddressPolicy::PublicOnly
        );
    }
}
