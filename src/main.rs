//! The `policydiff` command: argument parsing and printing; the library decides.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use policydiff::declaration::{self, BuiltinFilter, Filter, Selector, Severity, SourceDocument};
use policydiff::extract;

/// Exit status of usage and configuration errors.
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "policydiff",
    version,
    about = "Track changes to privacy policies and terms of service"
)]
struct Cli {
    /// Configuration file (default: config.yaml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one tracking round: fetch every declared document and record new versions in git.
    Track(TrackArgs),
    /// Run tracking rounds on the configured schedules until SIGINT/SIGTERM.
    Daemon(DaemonArgs),
    /// The versions of the documents, newest first.
    Log(LogArgs),
    /// The text of a document in force at a date (or recorded by a commit).
    Show(ShowArgs),
    /// The change of a document between two dates or commits.
    Diff(DiffArgs),
    /// Every document of the repository with its first and last record.
    Services(ServicesArgs),
    /// Check the repository's integrity: objects, one document per commit, trailers, dates.
    Verify(ServicesArgs),
    /// Write a dataset archive (zip): one folder per document, one Markdown file per version.
    Export(ExportArgs),
    /// The last round, the next one, failing documents, held-back changes, memos to review.
    Status(StatusArgs),
    /// Draft the memo of recorded changes, or analyse two files.
    Memo(MemoArgs),
    /// Track a bundled policy served from 127.0.0.1 twice, and show what was recorded (no internet needed).
    Demo(DemoArgs),
    /// Check declarations offline; one line per problem, non-zero exit on errors.
    Validate(ValidateArgs),
    /// Extract the Markdown text of a saved page, with a declaration's rules or given selectors.
    Extract(ExtractArgs),
}

#[derive(Args)]
struct TrackArgs {
    /// Documents to track, as SERVICE or SERVICE/TERMS TYPE (default: all).
    documents: Vec<String>,
    /// Print the run report as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// Only errors.
    #[arg(short, long)]
    quiet: bool,
    /// More detail (each retry, each request).
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args)]
struct RepoArgs {
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// As JSON, for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct LogArgs {
    /// Service id.
    service: Option<String>,
    /// Terms type.
    terms: Option<String>,
    /// Only versions from this date.
    #[arg(long)]
    since: Option<String>,
    /// Only versions up to this date.
    #[arg(long)]
    until: Option<String>,
    /// Only versions whose memo has this topic.
    #[arg(long)]
    topic: Option<String>,
    /// Only versions whose memo is at least this significant.
    #[arg(long)]
    min_significance: Option<f64>,
    #[command(flatten)]
    repo: RepoArgs,
}

#[derive(Args)]
struct ShowArgs {
    /// Service id.
    service: String,
    /// Terms type.
    terms: String,
    /// The version in force at this date (YYYY-MM-DD or RFC 3339; default: now).
    #[arg(long, conflicts_with = "commit")]
    at: Option<String>,
    /// The version recorded by (or in force at) this commit.
    #[arg(long)]
    commit: Option<String>,
    #[command(flatten)]
    repo: RepoArgs,
}

#[derive(Args)]
struct DiffArgs {
    /// Service id.
    service: String,
    /// Terms type.
    terms: String,
    /// From this date or revision.
    #[arg(long)]
    from: String,
    /// To this date or revision (default: the latest version).
    #[arg(long)]
    to: Option<String>,
    /// Word by word instead of line by line.
    #[arg(long)]
    words: bool,
    /// unified (default) or html (a self-contained side-by-side page on standard output).
    #[arg(long, value_enum, default_value = "unified")]
    format: DiffFormat,
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    repo: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    Unified,
    Html,
}

#[derive(Args)]
struct ServicesArgs {
    #[command(flatten)]
    repo: RepoArgs,
}

#[derive(Args)]
struct ExportArgs {
    /// The archive to write (FILE.zip).
    #[arg(long)]
    out: PathBuf,
    /// Only versions recorded at or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// The collection's name in the archive's README (default: the repository folder's name).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    repo: RepoArgs,
}

#[derive(Args)]
struct StatusArgs {
    /// As JSON, for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DaemonArgs {
    /// Only errors.
    #[arg(short, long)]
    quiet: bool,
    /// More detail.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args)]
struct MemoArgs {
    /// Service id (folder of the versions repository).
    #[arg(conflicts_with_all = ["all", "before"])]
    service: Option<String>,
    /// Terms type.
    #[arg(requires = "service")]
    terms: Option<String>,
    /// The change to draft (default: the latest change of the document).
    #[arg(long, requires = "service")]
    commit: Option<String>,
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// Every change of the repository.
    #[arg(long)]
    all: bool,
    /// With --all: only changes from this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, requires = "all")]
    since: Option<String>,
    /// Where memos are written (default: memos.dir of the configuration).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Analyse two files instead: the previous version…
    #[arg(long, requires_all = ["after", "service_name", "terms_type"])]
    before: Option<PathBuf>,
    /// …the new version,
    #[arg(long, requires = "before")]
    after: Option<PathBuf>,
    /// …the service,
    #[arg(long = "service", id = "service_name", requires = "before")]
    service_name: Option<String>,
    /// …the terms type,
    #[arg(long = "terms", id = "terms_type", requires = "before")]
    terms_type: Option<String>,
    /// …and the date of the change (default: today).
    #[arg(long, requires = "before")]
    date: Option<String>,
    /// Output of the two-file form.
    #[arg(long, value_enum, default_value = "markdown")]
    format: MemoFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MemoFormat {
    Markdown,
    Json,
}

#[derive(Args)]
struct DemoArgs {
    /// Keep the demonstration's files in this folder (default: a temporary folder, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Args)]
struct ValidateArgs {
    /// Declaration files or folders (default: declarations/).
    paths: Vec<PathBuf>,
    /// Also fail on unsupported features (JavaScript filters).
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
struct ExtractArgs {
    /// Saved pages (`-` for standard input); one per source document of a combined declaration.
    #[arg(required = true)]
    files: Vec<String>,
    /// The page's URL, against which links are made absolute.
    #[arg(long)]
    location: Option<String>,
    /// CSS selector of the content (repeatable, applied in order).
    #[arg(long = "select")]
    select: Vec<String>,
    /// CSS selector of content to remove first (repeatable).
    #[arg(long = "remove")]
    remove: Vec<String>,
    /// Built-in filter: NAME, or NAME=JSON parameters (e.g. 'removeQueryParams=["utm_source"]').
    #[arg(long = "filter")]
    filter: Vec<String>,
    /// Content type of the input (e.g. application/pdf for a PDF on standard input).
    #[arg(long)]
    content_type: Option<String>,
    /// Use the rules of this declaration file…
    #[arg(long, requires = "terms", conflicts_with_all = ["select", "remove", "filter"])]
    declaration: Option<PathBuf>,
    /// …for this terms type.
    #[arg(long, requires = "declaration")]
    terms: Option<String>,
    /// With --declaration: the rules in force at this date (YYYY-MM-DD or RFC 3339), from its history.
    #[arg(long, requires = "declaration")]
    at: Option<String>,
}

fn main() -> ExitCode {
    // Output piped into `head` and the like: end quietly when the reader goes away.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Track(args) => track(cli.config.as_deref(), args),
        Command::Validate(args) => validate(args),
        Command::Demo(args) => demo(args),
        Command::Daemon(args) => daemon(cli.config.as_deref(), args),
        Command::Status(args) => status(cli.config.as_deref(), args),
        Command::Log(args) => report_result("log", audit_log(cli.config.as_deref(), args)),
        Command::Show(args) => report_result("show", audit_show(cli.config.as_deref(), args)),
        Command::Diff(args) => report_result("diff", audit_diff(cli.config.as_deref(), args)),
        Command::Services(args) => {
            report_result("services", audit_services(cli.config.as_deref(), args))
        }
        Command::Verify(args) => verify(cli.config.as_deref(), args),
        Command::Export(args) => report_result("export", export(cli.config.as_deref(), args)),
        Command::Memo(args) => match memo(cli.config.as_deref(), args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("policydiff memo: {message}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Extract(args) => match run_extract(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("policydiff extract: {message}");
                ExitCode::from(EXIT_USAGE)
            }
        },
    }
}

fn memo(config_path: Option<&Path>, args: MemoArgs) -> Result<ExitCode, String> {
    use policydiff::analyse::{Taxonomy, analyse};
    use policydiff::memo;
    let config = policydiff::config::Config::load(config_path).map_err(|e| e.to_string())?;
    let taxonomy = Taxonomy::with_additions(&config.memos.topics);
    if let (Some(before), Some(after)) = (&args.before, &args.after) {
        let read = |path: &PathBuf| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let (before, after) = (read(before)?, read(after)?);
        let date = args
            .date
            .clone()
            .unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%d").to_string());
        let service = args.service_name.clone().unwrap_or_default();
        let terms = args.terms_type.clone().unwrap_or_default();
        let analysis = analyse(Some(&before), &after, None, false, &taxonomy);
        let input = memo::MemoInput {
            service: &service,
            terms_type: &terms,
            date: &date,
            commit: None,
            previous_commit: None,
            before: Some(&before),
            after: &after,
        };
        let drafted = memo::draft(&input, &analysis, &config.memos, &taxonomy);
        match args.format {
            MemoFormat::Markdown => print!("{}", drafted.to_markdown()),
            MemoFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&drafted.to_json(&service, &terms))
                    .unwrap_or_default()
            ),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let repo_path = args
        .repo
        .clone()
        .unwrap_or_else(|| config.snapshots.clone());
    let repository =
        policydiff::record::VersionsRepository::open(&repo_path).map_err(|e| e.to_string())?;
    let out = args.out.clone().unwrap_or_else(|| config.memos.dir.clone());
    let since = match &args.since {
        Some(text) => Some(
            policydiff::declaration::parse_date(text)
                .ok_or_else(|| format!("--since {text:?} is not a date"))?,
        ),
        None => None,
    };
    let started = std::time::Instant::now();
    let changes = repository
        .version_changes(if args.all { since } else { None })
        .map_err(|e| e.to_string())?;
    if args.all {
        let (mut written, mut analysed) = (0, 0);
        for change in &changes {
            let Some(drafted) = memo::for_recorded_change(
                &repository,
                change,
                &change.service_id,
                &config.memos,
                &taxonomy,
            )
            .map_err(|e| e.to_string())?
            else {
                continue;
            };
            analysed += 1;
            memo::write(&drafted, &change.service_id, &change.terms_type, &out)
                .map_err(|e| e.to_string())?;
            written += 1;
        }
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{written} memos written to {} ({analysed} changes analysed in {seconds:.1}s, {:.0} changes/s)",
            out.display(),
            analysed as f64 / seconds.max(1e-9)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(service), Some(terms)) = (&args.service, &args.terms) else {
        return Err("give SERVICE TERMS, --all, or --before/--after (see --help)".into());
    };
    let wanted = match &args.commit {
        Some(revision) => Some(repository.resolve(revision).map_err(|e| e.to_string())?),
        None => None,
    };
    let change = changes
        .iter()
        .rev()
        .filter(|c| &c.service_id == service && &c.terms_type == terms)
        .find(|c| wanted.as_ref().is_none_or(|w| &c.commit == w))
        .ok_or_else(|| match &wanted {
            Some(commit) => format!("commit {commit} records no version of {service} {terms}"),
            None => format!(
                "{} holds no version of {service} {terms}",
                repo_path.display()
            ),
        })?;
    let Some(drafted) =
        memo::for_recorded_change(&repository, change, service, &config.memos, &taxonomy)
            .map_err(|e| e.to_string())?
    else {
        return Err(format!(
            "commit {} is the first record of {service} {terms}: there is no change to describe",
            change.commit
        ));
    };
    let path = memo::write(&drafted, service, terms, &out).map_err(|e| e.to_string())?;
    print!("{}", drafted.to_markdown());
    eprintln!("written to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn daemon(config_path: Option<&Path>, args: DaemonArgs) -> ExitCode {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let config = match policydiff::config::Config::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("policydiff daemon: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    init_logging(args.quiet, args.verbose, false);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("policydiff daemon: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stop_requested = Arc::new(tokio::sync::Notify::new());
    let result = runtime.block_on(async {
        {
            let (stop, stop_requested) = (stop.clone(), stop_requested.clone());
            tokio::spawn(async move {
                let Ok(mut terminate) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                else {
                    return;
                };
                let mut signals = 0;
                loop {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                    signals += 1;
                    if signals > 1 {
                        eprintln!("policydiff daemon: second signal, exiting now");
                        std::process::exit(130);
                    }
                    tracing::info!("stop requested: finishing what is fetched, then exiting");
                    stop.store(true, Ordering::SeqCst);
                    stop_requested.notify_one();
                }
            });
        }
        let mut on_document = |_: &policydiff::track::DocumentReport| {};
        let mut on_round = |report: &policydiff::track::RunReport| {
            tracing::info!(
                recorded = report.recorded,
                unchanged = report.unchanged,
                failed = report.failed,
                held_back = report.held_back,
                "round finished"
            );
        };
        policydiff::daemon::run(
            &config,
            &stop,
            &stop_requested,
            &mut on_document,
            &mut on_round,
        )
        .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("policydiff daemon: {error}");
            ExitCode::from(match error {
                policydiff::Error::Locked { .. } | policydiff::Error::DaemonRunning { .. } => {
                    EXIT_LOCKED
                }
                policydiff::Error::InvalidDeclaration { .. } => EXIT_USAGE,
                _ => 1,
            })
        }
    }
}

fn report_result(command: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("policydiff {command}: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn open_history(
    config_path: Option<&Path>,
    repo: Option<&PathBuf>,
) -> Result<
    (
        policydiff::config::Config,
        policydiff::record::VersionsRepository,
    ),
    String,
> {
    let config = policydiff::config::Config::load(config_path).map_err(|e| e.to_string())?;
    let path = repo.cloned().unwrap_or_else(|| config.snapshots.clone());
    let repository =
        policydiff::record::VersionsRepository::open(&path).map_err(|e| e.to_string())?;
    Ok((config, repository))
}

fn date_argument(
    name: &str,
    value: &Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    match value {
        Some(text) => policydiff::declaration::parse_date(text)
            .map(Some)
            .ok_or_else(|| format!("--{name} {text:?} is not a date (YYYY-MM-DD or RFC 3339)")),
        None => Ok(None),
    }
}

fn audit_log(config_path: Option<&Path>, args: LogArgs) -> Result<(), String> {
    let (config, repository) = open_history(config_path, args.repo.repo.as_ref())?;
    let only = args.service.as_deref().map(|s| (s, args.terms.as_deref()));
    let history = policydiff::audit::History::read(&repository, Some(&config.memos.dir), only)
        .map_err(|e| e.to_string())?;
    let since = date_argument("since", &args.since)?;
    let until = date_argument("until", &args.until)?;
    let entries: Vec<_> = history
        .log(args.service.as_deref(), args.terms.as_deref())
        .into_iter()
        .filter(|e| since.is_none_or(|d| e.date >= d) && until.is_none_or(|d| e.date <= d))
        .filter(|e| args.topic.as_ref().is_none_or(|t| e.topics.contains(t)))
        .filter(|e| {
            args.min_significance
                .is_none_or(|m| e.significance.is_some_and(|s| s >= m))
        })
        .collect();
    if args.repo.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return Ok(());
    }
    for e in entries {
        let memo = match e.significance {
            Some(s) => format!("  {s:.2} {}", e.topics.join(",")),
            None => String::new(),
        };
        println!(
            "{}  {:.10}  {:<18} +{:<4} -{:<4} {} / {}{memo}",
            e.date.format("%Y-%m-%d %H:%M"),
            e.commit,
            e.kind.as_str(),
            e.lines_added,
            e.lines_removed,
            e.service,
            e.terms_type
        );
    }
    Ok(())
}

/// The history of one document, or a message saying the repository does not hold it.
fn document_history<'r>(
    repository: &'r policydiff::record::VersionsRepository,
    service: &str,
    terms: &str,
) -> Result<policydiff::audit::History<'r>, String> {
    let history = policydiff::audit::History::read(repository, None, Some((service, Some(terms))))
        .map_err(|e| e.to_string())?;
    if !history.has(service, terms) {
        return Err(format!(
            "{} holds no document {service} / {terms}",
            repository.path().display()
        ));
    }
    Ok(history)
}

fn audit_show(config_path: Option<&Path>, args: ShowArgs) -> Result<(), String> {
    let (_, repository) = open_history(config_path, args.repo.repo.as_ref())?;
    let history = document_history(&repository, &args.service, &args.terms)?;
    let version = match (&args.at, &args.commit) {
        (_, Some(commit)) => history.resolve_point(&args.service, &args.terms, commit),
        (Some(at), None) => history.resolve_point(&args.service, &args.terms, at),
        (None, None) => {
            history.resolve_point(&args.service, &args.terms, &chrono::Utc::now().to_rfc3339())
        }
    }
    .map_err(|e| e.to_string())?;
    let text = history.text(version).map_err(|e| e.to_string())?;
    if args.repo.json {
        let json = serde_json::json!({"version": version, "text": text});
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else {
        eprintln!(
            "{} / {}: version of commit {} recorded {}{}",
            version.service,
            version.terms_type,
            version.commit,
            version
                .date
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            version
                .fetched_at
                .map(|f| format!(
                    ", fetched {}",
                    f.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))
                .unwrap_or_default()
        );
        print!("{text}");
        if std::io::stdout().is_terminal() {
            println!();
        }
    }
    Ok(())
}

fn audit_diff(config_path: Option<&Path>, args: DiffArgs) -> Result<(), String> {
    let (_, repository) = open_history(config_path, args.repo.as_ref())?;
    let history = document_history(&repository, &args.service, &args.terms)?;
    let from = history
        .resolve_point(&args.service, &args.terms, &args.from)
        .map_err(|e| e.to_string())?;
    let to_point = args
        .to
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().to_rfc3339());
    let to = history
        .resolve_point(&args.service, &args.terms, &to_point)
        .map_err(|e| e.to_string())?;
    let (before, after) = (
        history.text(from).map_err(|e| e.to_string())?,
        history.text(to).map_err(|e| e.to_string())?,
    );
    let label = |v: &policydiff::audit::VersionEntry| {
        format!(
            "{} ({:.10}, {})",
            args.terms,
            v.commit,
            v.date.format("%Y-%m-%d")
        )
    };
    match args.format {
        DiffFormat::Html => {
            let title = format!(
                "{} {}: {} → {}",
                args.service,
                args.terms,
                from.date.format("%Y-%m-%d"),
                to.date.format("%Y-%m-%d")
            );
            print!(
                "{}",
                policydiff::audit::side_by_side_html(&title, &before, &after)
            );
        }
        DiffFormat::Unified => {
            let colour = std::io::stdout().is_terminal();
            let diff = if args.words {
                similar::TextDiff::from_words(before.as_str(), after.as_str())
            } else {
                similar::TextDiff::from_lines(before.as_str(), after.as_str())
            };
            if args.words {
                for change in diff.iter_all_changes() {
                    let value = change.value();
                    match (change.tag(), colour) {
                        (similar::ChangeTag::Equal, _) => print!("{value}"),
                        (similar::ChangeTag::Delete, true) => print!("\x1b[31m[-{value}-]\x1b[0m"),
                        (similar::ChangeTag::Insert, true) => {
                            print!("\x1b[32m{{+{value}+}}\x1b[0m")
                        }
                        (similar::ChangeTag::Delete, false) => print!("[-{value}-]"),
                        (similar::ChangeTag::Insert, false) => print!("{{+{value}+}}"),
                    }
                }
                println!();
            } else {
                let text = diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&label(from), &label(to))
                    .to_string();
                for line in text.lines() {
                    match (line.chars().next(), colour) {
                        (Some('+'), true) if !line.starts_with("+++") => {
                            println!("\x1b[32m{line}\x1b[0m")
                        }
                        (Some('-'), true) if !line.starts_with("---") => {
                            println!("\x1b[31m{line}\x1b[0m")
                        }
                        _ => println!("{line}"),
                    }
                }
            }
        }
    }
    Ok(())
}

fn audit_services(config_path: Option<&Path>, args: ServicesArgs) -> Result<(), String> {
    let (_, repository) = open_history(config_path, args.repo.repo.as_ref())?;
    let history =
        policydiff::audit::History::read(&repository, None, None).map_err(|e| e.to_string())?;
    let spans = history.services();
    if args.repo.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&spans).unwrap_or_default()
        );
        return Ok(());
    }
    for span in spans {
        println!(
            "{} / {}: {} versions, {} → {}",
            span.service,
            span.terms_type,
            span.versions,
            span.first.format("%Y-%m-%d"),
            span.last.format("%Y-%m-%d")
        );
    }
    Ok(())
}

fn verify(config_path: Option<&Path>, args: ServicesArgs) -> ExitCode {
    let path = match args.repo.repo.clone() {
        Some(path) => Ok(path),
        None => policydiff::config::Config::load(config_path)
            .map(|config| config.snapshots)
            .map_err(|e| e.to_string()),
    };
    let verification = match path
        .and_then(|path| policydiff::audit::verify::verify(&path).map_err(|e| e.to_string()))
    {
        Ok(verification) => verification,
        Err(error) => {
            eprintln!("policydiff verify: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if args.repo.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verification).unwrap_or_default()
        );
    } else {
        for problem in &verification.problems {
            let commit = problem
                .commit
                .as_deref()
                .map(|c| format!("{:.10} ", c))
                .unwrap_or_default();
            let path = problem
                .path
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            let kind = serde_json::to_value(problem.kind).unwrap_or_default();
            println!(
                "{commit}{path}{}: {}",
                kind.as_str().unwrap_or(""),
                problem.detail
            );
        }
        println!(
            "{} objects, {} commits ({} versions) checked: {}",
            verification.objects,
            verification.commits,
            verification.version_commits,
            match verification.problems.len() {
                0 => "no problem found".to_string(),
                1 => "1 problem".to_string(),
                n => format!("{n} problems"),
            }
        );
    }
    if verification.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn export(config_path: Option<&Path>, args: ExportArgs) -> Result<(), String> {
    let (_, repository) = open_history(config_path, args.repo.repo.as_ref())?;
    let since =
        match &args.since {
            Some(text) => Some(policydiff::declaration::parse_date(text).ok_or_else(|| {
                format!("--since {text:?} is not a date (YYYY-MM-DD or RFC 3339)")
            })?),
            None => None,
        };
    let options = policydiff::audit::export::ExportOptions {
        since,
        name: args.name.clone(),
    };
    let summary = policydiff::audit::export::export(&repository, &args.out, &options)
        .map_err(|e| e.to_string())?;
    if args.repo.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else {
        println!(
            "{}: {} versions of {} documents ({} services)",
            args.out.display(),
            summary.versions,
            summary.documents,
            summary.services
        );
    }
    Ok(())
}

fn status(config_path: Option<&Path>, args: StatusArgs) -> ExitCode {
    let report = match policydiff::config::Config::load(config_path)
        .map_err(|e| e.to_string())
        .and_then(|config| policydiff::status::status(&config).map_err(|e| e.to_string()))
    {
        Ok(report) => report,
        Err(error) => {
            eprintln!("policydiff status: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    match &report.last_round {
        Some(round) => println!(
            "last round  {} ({:.1}s): {} recorded, {} unchanged, {} failed, {} held back",
            round.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            round.duration_ms as f64 / 1000.0,
            round.recorded,
            round.unchanged,
            round.failed,
            round.held_back
        ),
        None => println!("last round  none yet"),
    }
    println!(
        "next round  {}{}",
        report
            .next_round
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "none scheduled".into()),
        if report.daemon_running {
            " (daemon running)"
        } else {
            " (daemon not running)"
        }
    );
    println!("failing     {}", report.failing.len());
    for failing in &report.failing {
        println!(
            "  {} / {}: {} for {} round{}: {}",
            failing.service,
            failing.terms_type,
            failing.error_class.map(|c| c.as_str()).unwrap_or("?"),
            failing.streak,
            if failing.streak == 1 { "" } else { "s" },
            failing.error.as_deref().unwrap_or("")
        );
    }
    println!("held back   {}", report.held_back.len());
    for (service, terms) in &report.held_back {
        println!("  {service} / {terms}");
    }
    println!("memos to review {}", report.memos_to_review.len());
    for memo in &report.memos_to_review {
        println!(
            "  {:.2}  {}  ({})",
            memo.significance, memo.title, memo.path
        );
    }
    ExitCode::SUCCESS
}

fn demo(args: DemoArgs) -> ExitCode {
    let temporary = match &args.dir {
        Some(_) => None,
        None => match tempfile::tempdir() {
            Ok(dir) => Some(dir),
            Err(error) => {
                eprintln!("policydiff demo: cannot create a temporary folder: {error}");
                return ExitCode::from(1);
            }
        },
    };
    let dir = args.dir.clone().unwrap_or_else(|| {
        temporary
            .as_ref()
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default()
    });
    let result = tokio::runtime::Runtime::new()
        .map_err(|e| policydiff::Error::io("cannot start the runtime", e))
        .and_then(|runtime| runtime.block_on(policydiff::demo::run(&dir)));
    match result {
        Ok(demo) => {
            println!(
                "Tracked a privacy policy served from 127.0.0.1 twice; its second version changed.\n"
            );
            for (i, round) in demo.rounds.iter().enumerate() {
                let statuses: Vec<String> = round
                    .documents
                    .iter()
                    .map(|d| format!("{} / {}: {:?}", d.service, d.terms_type, d.status))
                    .collect();
                println!("round {}: {}", i + 1, statuses.join(", "));
            }
            println!("\nVersions recorded in {}:", demo.repository.display());
            for line in &demo.log {
                println!("  {line}");
            }
            println!("\nWhat changed:\n{}", demo.diff);
            if args.dir.is_none() {
                println!("(temporary files removed; use --dir PATH to keep the repository)");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("policydiff demo: {error}");
            ExitCode::from(1)
        }
    }
}

/// Exit status when another run holds the repository.
const EXIT_LOCKED: u8 = 3;

fn init_logging(quiet: bool, verbose: bool, interactive: bool) {
    let default = if quiet {
        "warn"
    } else if verbose {
        "policydiff=debug"
    } else if interactive {
        "warn"
    } else {
        "info"
    };
    // The DevTools client reports protocol messages of newer browsers it does not know as
    // warnings; they are harmless, so only its errors are shown unless RUST_LOG asks.
    let default = format!("{default},chromiumoxide=error");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn track(config_path: Option<&Path>, args: TrackArgs) -> ExitCode {
    let config = match policydiff::config::Config::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("policydiff track: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let interactive = std::io::stderr().is_terminal() && !args.quiet;
    init_logging(args.quiet, args.verbose, interactive);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("policydiff track: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let progress = interactive.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let (mut recorded, mut unchanged, mut failed) = (0, 0, 0);
    let mut on_document = |report: &policydiff::track::DocumentReport| {
        if report.status.recorded() {
            recorded += 1;
        } else if report.status == policydiff::track::Status::Failed {
            failed += 1;
        } else {
            unchanged += 1;
        }
        if let Some(bar) = &progress {
            bar.set_message(format!(
                "{recorded} recorded, {unchanged} unchanged, {failed} failed — {} {}",
                report.service, report.terms_type
            ));
        }
    };
    let result = runtime.block_on(policydiff::track::track(
        &config,
        &args.documents,
        &mut on_document,
    ));
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            eprintln!("policydiff track: {error}");
            return ExitCode::from(match error {
                policydiff::Error::Locked { .. } => EXIT_LOCKED,
                policydiff::Error::InvalidDeclaration { .. }
                | policydiff::Error::UnknownDocument { .. } => EXIT_USAGE,
                _ => 1,
            });
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => eprintln!("policydiff track: cannot write the report: {error}"),
        }
    }
    if !args.quiet {
        print_summary(&report);
    }
    if report.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_summary(report: &policydiff::track::RunReport) {
    use policydiff::track::Status;
    let count = |status: Status| {
        report
            .documents
            .iter()
            .filter(|d| d.status == status)
            .count()
    };
    eprintln!(
        "recorded   {:>5}  (first record {}, new version {}, technical upgrade {})",
        report.recorded,
        count(Status::FirstRecord),
        count(Status::NewVersion),
        count(Status::TechnicalUpgrade)
    );
    eprintln!("unchanged  {:>5}", report.unchanged);
    if report.held_back > 0 {
        eprintln!(
            "held back  {:>5}  (suspicious shrink; recorded if seen again next round)",
            report.held_back
        );
    }
    let classes: Vec<String> = report
        .failures_by_class()
        .iter()
        .map(|(class, n)| format!("{class} {n}"))
        .collect();
    eprintln!(
        "failed     {:>5}{}",
        report.failed,
        if classes.is_empty() {
            String::new()
        } else {
            format!("  ({})", classes.join(", "))
        }
    );
    for document in report
        .documents
        .iter()
        .filter(|d| d.status == Status::Failed)
    {
        eprintln!(
            "  {} / {}: {}",
            document.service,
            document.terms_type,
            document.error.as_deref().unwrap_or("")
        );
    }
    eprintln!("in {:.1}s", report.duration_ms as f64 / 1000.0);
}

fn validate(args: ValidateArgs) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("declarations")]
    } else {
        args.paths
    };
    let mut services = Vec::new();
    for path in &paths {
        if path.is_dir() {
            match declaration::load_directory(path) {
                Ok(mut loaded) => services.append(&mut loaded),
                Err(error) => {
                    eprintln!("policydiff validate: {error}");
                    return ExitCode::from(EXIT_USAGE);
                }
            }
        } else if path.exists() {
            services.push(declaration::load_service(path));
        } else {
            eprintln!("policydiff validate: {} does not exist", path.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let (mut errors, mut unsupported, mut documents) = (0, 0, 0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for service in &services {
        documents += service.declaration.as_ref().map_or(0, |d| d.terms.len());
        for problem in &service.problems {
            match problem.severity {
                Severity::Error => errors += 1,
                Severity::Unsupported => unsupported += 1,
            }
            let _ = writeln!(out, "{problem}");
        }
    }
    eprintln!(
        "{} services, {documents} valid terms entries: {errors} errors, {unsupported} unsupported",
        services.len()
    );
    if errors > 0 || (args.strict && unsupported > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_input(file: &str) -> Result<Vec<u8>, String> {
    if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(bytes)
    } else {
        std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))
    }
}

fn content_type_of(file: &str, given: Option<&str>) -> Option<String> {
    given.map(str::to_string).or_else(|| {
        Path::new(file)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
            .then(|| "application/pdf".to_string())
    })
}

fn parse_filter(spec: &str) -> Result<Filter, String> {
    let (name, params) = match spec.split_once('=') {
        Some((name, raw)) => {
            let value =
                serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.into()));
            (name, Some(value))
        }
        None => (spec, None),
    };
    match BuiltinFilter::from_declared(name, params.as_ref()) {
        Ok(Some(filter)) => Ok(Filter::Builtin(filter)),
        Ok(None) => Err(format!(
            "--filter {name:?} is not a built-in filter ({})",
            declaration::filter::BUILTIN_FILTER_NAMES.join(", ")
        )),
        Err(reason) => Err(format!("--filter {name:?} {reason}")),
    }
}

fn rules_from_arguments(args: &ExtractArgs) -> Result<Vec<SourceDocument>, String> {
    let location = args
        .location
        .clone()
        .ok_or("--location URL is required with --select (the page's address, for links)")?;
    let is_pdf = args.files.len() == 1
        && content_type_of(&args.files[0], args.content_type.as_deref()).as_deref()
            == Some("application/pdf");
    if args.select.is_empty() && !is_pdf {
        return Err("give --select CSS (or --declaration FILE --terms TYPE)".into());
    }
    if args.files.len() != 1 {
        return Err("with --select, give exactly one FILE".into());
    }
    for css in args.select.iter().chain(&args.remove) {
        declaration::check_css(css)
            .map_err(|reason| format!("invalid CSS selector {css:?}: {reason}"))?;
    }
    let filters = args
        .filter
        .iter()
        .map(|spec| parse_filter(spec))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(vec![SourceDocument {
        fetch: location,
        select: args.select.iter().cloned().map(Selector::Css).collect(),
        remove: args.remove.iter().cloned().map(Selector::Css).collect(),
        filters,
        execute_client_scripts: None,
        actions: vec![],
    }])
}

fn rules_from_declaration(
    args: &ExtractArgs,
    path: &Path,
    terms_type: &str,
) -> Result<Vec<SourceDocument>, String> {
    let loaded = declaration::load_service(path);
    let declaration = loaded.declaration.as_ref().ok_or_else(|| {
        loaded
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let terms = match &args.at {
        Some(at) => {
            let date = declaration::parse_date(at)
                .ok_or_else(|| format!("--at {at:?} is not a date (YYYY-MM-DD or RFC 3339)"))?;
            declaration.terms_at(terms_type, date)
        }
        None => declaration.terms.get(terms_type),
    };
    let Some(terms) = terms else {
        let problems: Vec<String> = loaded
            .problems_for(terms_type)
            .iter()
            .map(ToString::to_string)
            .collect();
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        let known: Vec<&str> = declaration.terms.keys().map(String::as_str).collect();
        return Err(format!(
            "{} declares no terms {terms_type:?} (it declares: {})",
            path.display(),
            known.join(", ")
        ));
    };
    if terms.sources.len() != args.files.len() {
        return Err(format!(
            "{terms_type:?} combines {} source documents; give one FILE for each, in order ({})",
            terms.sources.len(),
            terms
                .sources
                .iter()
                .map(|s| s.fetch.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(terms.sources.clone())
}

fn run_extract(args: ExtractArgs) -> Result<ExitCode, String> {
    let sources = match (&args.declaration, &args.terms) {
        (Some(path), Some(terms_type)) => rules_from_declaration(&args, path, terms_type)?,
        _ => rules_from_arguments(&args)?,
    };
    let mut parts = Vec::new();
    for (file, source) in args.files.iter().zip(&sources) {
        let bytes = read_input(file)?;
        let content_type = content_type_of(file, args.content_type.as_deref());
        let location = args
            .location
            .clone()
            .filter(|_| sources.len() == 1)
            .unwrap_or_else(|| source.fetch.clone());
        match extract::extract(&bytes, content_type.as_deref(), &location, source) {
            Ok(extracted) => {
                for name in &extracted.skipped_filters {
                    eprintln!(
                        "note: filter {name:?} is a JavaScript filter, which policydiff does not run; extracted without it"
                    );
                }
                parts.push(extracted.markdown);
            }
            Err(error) => {
                eprintln!("policydiff extract: {file}: {} ({})", error, error.class());
                return Ok(ExitCode::from(1));
            }
        }
    }
    let markdown = extract::combine(&parts);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let newline = if stdout.is_terminal() { "\n" } else { "" };
    write!(out, "{markdown}{newline}").map_err(|e| format!("cannot write the output: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
