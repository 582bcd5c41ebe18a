//! One function per command: read the arguments, call the library, print what it returns.
//! Every function returns `Result<ExitCode, Error>`; `main` turns an error into its message
//! and [`Error::exit_code`], in one place.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use policydiff::audit::{self, History, render};
use policydiff::config::Config;
use policydiff::declaration::{self, DocumentId, Severity, adhoc};
use policydiff::memo::{self, MemoStore, Stored};
use policydiff::publish::Publishing;
use policydiff::record::VersionsRepository;
use policydiff::report::{DocumentReport, DocumentStatus, RunLog, RunReport, Sink};
use policydiff::units::date_argument;
use policydiff::{Error, Result, extract, notify};

use super::args::*;
use super::output;

/// Runs the command the arguments name.
pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Track(args) => track(config, args),
        Command::Daemon(args) => daemon(config, args),
        Command::Log(args) => log(config, args),
        Command::Show(args) => show(config, args),
        Command::Diff(args) => diff(config, args),
        Command::Services(args) => services(config, args),
        Command::Verify(args) => verify(config, args),
        Command::Export(args) => export(config, args),
        Command::Status(args) => status(config, args),
        Command::Publish(args) => publish(config, args),
        Command::Memo(args) => memo(config, args),
        Command::Review(command) => review(config, command),
        Command::Facts(args) => facts(config, args),
        Command::Demo(args) => demo(args),
        Command::Validate(args) => validate(args),
        Command::Extract(args) => extract(args),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().map_err(|e| Error::io("cannot start the async runtime", e))
}

/// What a terminal shows of a round: a progress line while it runs.
struct Terminal {
    progress: Option<indicatif::ProgressBar>,
    counts: (usize, usize, usize),
}

impl Sink for Terminal {
    fn document(&mut self, report: &DocumentReport) {
        let (recorded, unchanged, failed) = &mut self.counts;
        if report.status.recorded() {
            *recorded += 1;
        } else if report.status == DocumentStatus::Failed {
            *failed += 1;
        } else {
            *unchanged += 1;
        }
        if let Some(bar) = &self.progress {
            bar.set_message(format!(
                "{recorded} recorded, {unchanged} unchanged, {failed} failed — {} {}",
                report.document.service, report.document.terms_type
            ));
        }
    }

    async fn round(&mut self, _report: &mut RunReport) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
    }
}

fn track(config_path: Option<&Path>, args: TrackArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let interactive = std::io::stderr().is_terminal() && !args.quiet;
    output::init_logging(args.quiet, args.verbose, interactive);
    let runtime = runtime()?;
    let progress = interactive.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let mut terminal = Terminal {
        progress,
        counts: (0, 0, 0),
    };
    let report = runtime.block_on(async {
        let mut sinks = (&mut terminal, round_sinks(&config));
        let result = policydiff::track::track(&config, &args.documents, &mut sinks).await;
        if let Some(bar) = &terminal.progress {
            bar.finish_and_clear();
        }
        result
    })?;
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::internal("writing the run report", e))?;
        println!("{json}");
    }
    if !args.quiet {
        output::print_summary(&report);
    }
    Ok(if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// What every round hands its report to, in this order, once the repository is free: publishing
/// (its outcome joins the report), the run log, then the notifications (which may wait on slow
/// receivers).
fn round_sinks(config: &Config) -> impl Sink + '_ {
    (
        Publishing::new(config.publisher()),
        RunLog::in_state(&config.state),
        notify::Notifier::new(config),
    )
}

/// The daemon's own sink: a log line per round.
struct DaemonLog;

impl Sink for DaemonLog {
    async fn round(&mut self, report: &mut RunReport) {
        tracing::info!(
            recorded = report.recorded,
            unchanged = report.unchanged,
            failed = report.failed,
            held_back = report.held_back,
            "round finished"
        );
    }
}

fn daemon(config_path: Option<&Path>, args: DaemonArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    output::init_logging(args.quiet, args.verbose, false);
    let runtime = runtime()?;
    let mut sink = (DaemonLog, round_sinks(&config));
    runtime.block_on(policydiff::daemon::run_until_signalled(&config, &mut sink))?;
    Ok(ExitCode::SUCCESS)
}

fn open_repository(
    config_path: Option<&Path>,
    repo: Option<&PathBuf>,
) -> Result<(Config, VersionsRepository)> {
    let config = Config::load(config_path)?;
    let path = repo.cloned().unwrap_or_else(|| config.snapshots.clone());
    let repository = VersionsRepository::open(&path)?;
    Ok((config, repository))
}

fn optional_date(
    flag: &str,
    value: &Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    value
        .as_deref()
        .map(|text| date_argument(flag, text))
        .transpose()
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let json =
        serde_json::to_string_pretty(value).map_err(|e| Error::internal("writing JSON", e))?;
    println!("{json}");
    Ok(())
}

fn log(config_path: Option<&Path>, args: LogArgs) -> Result<ExitCode> {
    let (config, repository) = open_repository(config_path, args.repo.repo.as_ref())?;
    let since = optional_date("since", &args.since)?;
    let until = optional_date("until", &args.until)?;
    let only = args.service.as_deref().map(|s| (s, args.terms.as_deref()));
    let history = History::read(&repository, Some(&config.memos.dir), only)?;
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
        print_json(&entries)?;
    } else {
        output::print_log(&entries);
    }
    Ok(ExitCode::SUCCESS)
}

/// The history of one document, or an error saying the repository does not hold it.
fn document_history<'r>(
    repository: &'r VersionsRepository,
    service: &str,
    terms: &str,
) -> Result<History<'r>> {
    let history = History::read(repository, None, Some((service, Some(terms))))?;
    if !history.has(service, terms) {
        return Err(Error::argument(format!(
            "{} holds no document {service} / {terms}; `policydiff services` lists the documents it holds",
            repository.path().display()
        )));
    }
    Ok(history)
}

fn show(config_path: Option<&Path>, args: ShowArgs) -> Result<ExitCode> {
    let (_, repository) = open_repository(config_path, args.repo.repo.as_ref())?;
    let history = document_history(&repository, &args.service, &args.terms)?;
    let point = args
        .commit
        .clone()
        .or(args.at.clone())
        .unwrap_or_else(|| chrono::Utc::now().to_rfc3339());
    let version = history.resolve_point(&args.service, &args.terms, &point)?;
    let text = history.text(version)?;
    if args.repo.json {
        print_json(&serde_json::json!({"version": version, "text": text}))?;
    } else {
        output::print_version(version, &text);
    }
    Ok(ExitCode::SUCCESS)
}

fn diff(config_path: Option<&Path>, args: DiffArgs) -> Result<ExitCode> {
    let (_, repository) = open_repository(config_path, args.repo.as_ref())?;
    let history = document_history(&repository, &args.service, &args.terms)?;
    let from = history.resolve_point(&args.service, &args.terms, &args.from)?;
    let to_point = args
        .to
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().to_rfc3339());
    let to = history.resolve_point(&args.service, &args.terms, &to_point)?;
    let (before, after) = (history.text(from)?, history.text(to)?);
    let label = |v: &audit::LoggedChange| {
        format!(
            "{} ({:.10}, {})",
            args.terms,
            v.commit,
            v.date.format("%Y-%m-%d")
        )
    };
    let colour = std::io::stdout().is_terminal();
    match args.format {
        DiffFormat::Html => {
            let title = format!(
                "{} {}: {} → {}",
                args.service,
                args.terms,
                from.date.format("%Y-%m-%d"),
                to.date.format("%Y-%m-%d")
            );
            print!("{}", render::side_by_side_html(&title, &before, &after));
        }
        DiffFormat::Unified if args.words => {
            println!("{}", render::word_diff(&before, &after, colour));
        }
        DiffFormat::Unified => {
            print!(
                "{}",
                render::unified_diff(&before, &after, &label(from), &label(to), colour)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn services(config_path: Option<&Path>, args: ServicesArgs) -> Result<ExitCode> {
    let (_, repository) = open_repository(config_path, args.repo.repo.as_ref())?;
    let spans = History::read(&repository, None, None)?.services();
    if args.repo.json {
        print_json(&spans)?;
    } else {
        output::print_services(&spans);
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(config_path: Option<&Path>, args: ServicesArgs) -> Result<ExitCode> {
    let path = match args.repo.repo.clone() {
        Some(path) => path,
        None => Config::load(config_path)?.snapshots,
    };
    let verification = audit::verify::verify(&path)?;
    if args.repo.json {
        print_json(&verification)?;
    } else {
        output::print_verification(&verification);
    }
    Ok(if verification.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn export(config_path: Option<&Path>, args: ExportArgs) -> Result<ExitCode> {
    let (_, repository) = open_repository(config_path, args.repo.repo.as_ref())?;
    let options = audit::export::ExportOptions {
        since: optional_date("since", &args.since)?,
        name: args.name.clone(),
    };
    let summary = audit::export::export(&repository, &args.out, &options)?;
    if args.repo.json {
        print_json(&summary)?;
    } else {
        println!(
            "{}: {} versions of {} documents ({} services)",
            args.out.display(),
            summary.versions,
            summary.documents,
            summary.services
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status(config_path: Option<&Path>, args: StatusArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let report = policydiff::status::status(&config)?;
    if args.json {
        print_json(&report)?;
    } else {
        output::print_status(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn publish(config_path: Option<&Path>, args: PublishArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    if config.publish.is_none() {
        return Err(Error::argument(format!(
            "{} has no `publish:` section: add `publish: {{remote: URL-or-path, branch: main}}` to push the versions after each round",
            config_path.map_or_else(|| "config.yaml".into(), |p| p.display().to_string())
        )));
    }
    let runtime = runtime()?;
    let Some(report) = runtime.block_on(policydiff::publish::publish(config.publisher()))? else {
        return Ok(ExitCode::SUCCESS);
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!("{}", output::publish_line(&report));
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn memo(config_path: Option<&Path>, args: MemoArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    if let (Some(before), Some(after)) = (&args.before, &args.after) {
        let read = |path: &PathBuf| {
            std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
        };
        let (before, after) = (read(before)?, read(after)?);
        let date = args
            .date
            .clone()
            .unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%d").to_string());
        let service = args.service_name.clone().unwrap_or_default();
        let terms = args.terms_type.clone().unwrap_or_default();
        let drafted = memo::for_texts(&before, &after, &service, &terms, &date, &config.memos);
        match args.format {
            MemoFormat::Markdown => print!("{}", drafted.to_markdown()),
            MemoFormat::Json => print_json(&drafted.record(&DocumentId::new(service, terms)))?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let repo_path = args
        .repo
        .clone()
        .unwrap_or_else(|| config.snapshots.clone());
    let repository = VersionsRepository::open(&repo_path)?;
    let store = MemoStore::new(args.out.as_deref().unwrap_or(&config.memos.dir));
    if args.all {
        let since = optional_date("since", &args.since)?;
        let started = std::time::Instant::now();
        let summary = memo::draft_all(&repository, since, &config.memos, &store)?;
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{} memos written to {} ({} changes analysed in {seconds:.1}s, {:.0} changes/s){}",
            summary.written,
            store.dir().display(),
            summary.analysed,
            summary.analysed as f64 / seconds.max(1e-9),
            match summary.kept_reviewed {
                0 => String::new(),
                1 => "; 1 reviewed memo kept as it is".to_string(),
                n => format!("; {n} reviewed memos kept as they are"),
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(service), Some(terms)) = (&args.service, &args.terms) else {
        return Err(Error::argument(
            "give SERVICE TERMS, --all, or --before/--after (see --help)",
        ));
    };
    let drafted = memo::draft_for_document(
        &repository,
        service,
        terms,
        args.commit.as_deref(),
        &config.memos,
    )?;
    match store.write(&drafted, &DocumentId::new(service, terms))? {
        Stored::Written(path) => {
            print!("{}", drafted.to_markdown());
            eprintln!("written to {}", path.display());
        }
        Stored::KeptReviewed(path) => {
            eprintln!(
                "{} has been reviewed: it is kept as it is, not redrafted",
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn demo(args: DemoArgs) -> Result<ExitCode> {
    let temporary = match &args.dir {
        Some(_) => None,
        None => Some(
            tempfile::tempdir().map_err(|e| Error::io("cannot create a temporary folder", e))?,
        ),
    };
    let dir = match (&args.dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temporary)) => temporary.path().to_path_buf(),
        (None, None) => PathBuf::from("."),
    };
    let demo = runtime()?.block_on(policydiff::demo::run(&dir))?;
    output::print_demo(&demo, args.dir.is_none());
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("declarations")]
    } else {
        args.paths
    };
    let mut services = Vec::new();
    for path in &paths {
        if path.is_dir() {
            services.append(&mut declaration::load_directory(path)?);
        } else if path.exists() {
            services.push(declaration::load_service(path));
        } else {
            return Err(Error::argument(format!(
                "{} does not exist",
                path.display()
            )));
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
    Ok(if errors > 0 || (args.strict && unsupported > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn read_input(file: &str) -> Result<Vec<u8>> {
    if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read standard input", e))?;
        Ok(bytes)
    } else {
        std::fs::read(file).map_err(|e| Error::io(format!("cannot read {file}"), e))
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

fn extraction_rules(args: &ExtractArgs) -> Result<Vec<declaration::SourceDocument>> {
    if let (Some(path), Some(terms_type)) = (&args.declaration, &args.terms) {
        let at = optional_date("at", &args.at)?;
        let sources = adhoc::declared_sources(path, terms_type, at)?;
        if sources.len() != args.files.len() {
            return Err(Error::argument(format!(
                "{terms_type:?} combines {} source documents; give one FILE for each, in order ({})",
                sources.len(),
                sources
                    .iter()
                    .map(|s| s.fetch.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        return Ok(sources);
    }
    let location = args.location.clone().ok_or_else(|| {
        Error::argument("--location URL is required with --select (the page's address, for links)")
    })?;
    let is_pdf = args.files.len() == 1
        && content_type_of(&args.files[0], args.content_type.as_deref()).as_deref()
            == Some("application/pdf");
    if args.select.is_empty() && !is_pdf {
        return Err(Error::argument(
            "give --select CSS (or --declaration FILE --terms TYPE)",
        ));
    }
    if args.files.len() != 1 {
        return Err(Error::argument("with --select, give exactly one FILE"));
    }
    Ok(vec![adhoc::source_from_flags(
        &location,
        &args.select,
        &args.remove,
        &args.filter,
    )?])
}

fn extract(args: ExtractArgs) -> Result<ExitCode> {
    let sources = extraction_rules(&args)?;
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
                // The page, not the command, is at fault: exit 1 with the failure class.
                eprintln!("policydiff extract: {file}: {} ({})", error, error.class());
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let markdown = extract::combine(&parts);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let newline = if stdout.is_terminal() { "\n" } else { "" };
    write!(out, "{markdown}{newline}").map_err(|e| Error::io("cannot write the output", e))?;
    Ok(ExitCode::SUCCESS)
}

/// The reviewer's name: given, else the login name.
fn reviewer(by: Option<String>) -> String {
    by.filter(|b| !b.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "reviewer".to_string())
}

/// The environment variable that holds the review page's password when it listens beyond this
/// machine.
#[cfg(feature = "review-server")]
const REVIEW_PASSWORD_ENV: &str = "POLICYDIFF_REVIEW_PASSWORD";

fn review(config_path: Option<&Path>, command: ReviewCommand) -> Result<ExitCode> {
    use policydiff::review::{self, QueueFilter};
    let config = Config::load(config_path)?;
    let store = MemoStore::new(&config.memos.dir);
    match command {
        ReviewCommand::List(args) => {
            let entries = review::queue(
                &store,
                &QueueFilter {
                    status: args.status,
                    service: args.service,
                    topic: args.topic,
                },
            )?;
            if args.json {
                print_json(&entries)?;
            } else {
                output::print_queue(&entries);
            }
        }
        ReviewCommand::Approve(args) => {
            review::find(&store, &args.id)?;
            let repository = VersionsRepository::open(&config.snapshots)?;
            let memo = review::approve(
                &store,
                &repository,
                &args.id,
                &reviewer(args.by),
                args.force,
            )?;
            println!("published: {} ({})", memo.title, memo.path.display());
            for problem in runtime()?.block_on(notify::after_publishing(&config, memo)) {
                eprintln!("warning: {problem}");
            }
        }
        ReviewCommand::Reject(args) => {
            let memo = review::reject(&store, &args.id, &args.reason, &reviewer(args.by))?;
            println!("rejected: {} ({})", memo.title, memo.path.display());
            refresh_feeds(&config);
        }
        ReviewCommand::Edit(args) => {
            let memo = if args.title.is_none() && args.description.is_none() {
                let memo = review::find(&store, &args.id)?;
                open_in_editor(&memo.path)?;
                review::mark_edited(&store, &memo.id)?
            } else {
                review::edit(
                    &store,
                    &args.id,
                    &review::Edit {
                        title: args.title,
                        description: args.description,
                        body: None,
                    },
                )?
            };
            println!(
                "edited (still a draft): {} ({})",
                memo.title,
                memo.path.display()
            );
            refresh_feeds(&config);
        }
        ReviewCommand::Export(args) => {
            let written = review::export_ota(&store, &args.ota)?;
            for path in &written {
                println!("{}", path.display());
            }
            eprintln!("{} published memo(s) exported", written.len());
        }
        #[cfg(not(feature = "review-server"))]
        ReviewCommand::Serve(_) => {
            return Err(Error::argument(
                "this policydiff was built without the `review-server` feature: rebuild it with default features to serve the review page",
            ));
        }
        #[cfg(feature = "review-server")]
        ReviewCommand::Serve(args) => {
            let address = args
                .bind
                .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
            let mut options = review::web::ServeOptions::new(config.clone(), reviewer(args.by));
            if !address.is_loopback() {
                let password = std::env::var(REVIEW_PASSWORD_ENV)
                    .ok()
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| {
                        Error::argument(format!(
                            "listening on {address} lets other machines reach the review page: set a password in the environment variable {REVIEW_PASSWORD_ENV} (asked of every visitor), or leave out --bind to stay on 127.0.0.1"
                        ))
                    })?;
                options.password = Some(password);
            }
            let runtime = runtime()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind((address, args.port))
                    .await
                    .map_err(|e| {
                        Error::io(
                            format!(
                                "cannot listen on {address}:{}; choose another --port (0 picks a free one)",
                                args.port
                            ),
                            e,
                        )
                    })?;
                let local = listener
                    .local_addr()
                    .map_err(|e| Error::io("cannot read the listening address", e))?;
                let host = match local.ip() {
                    std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                    ip => ip.to_string(),
                };
                println!("http://{host}:{}/", local.port());
                std::io::stdout().flush().ok();
                let shutdown = async {
                    tokio::signal::ctrl_c().await.ok();
                };
                review::web::serve(listener, options, shutdown).await
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn refresh_feeds(config: &Config) {
    policydiff::review::refresh_feeds(config);
}

fn open_in_editor(path: &Path) -> Result<()> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .ok()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            Error::argument("no editor: set $EDITOR (or $VISUAL), or give --title / --description")
        })?;
    // $EDITOR may hold arguments ("code --wait"): run it through the shell, the file as $1.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status()
        .map_err(|e| Error::io(format!("cannot start the editor '{editor}'"), e))?;
    if !status.success() {
        return Err(Error::argument(format!(
            "the editor '{editor}' exited with {status}; the memo was left as the editor left it"
        )));
    }
    Ok(())
}

/// Every change of an answer across the services, newest first, of one fact and from one day
/// when asked.
fn fact_changes(
    services: Vec<policydiff::facts::ServiceFacts>,
    fact: Option<&str>,
    since: Option<&str>,
    rules: &policydiff::facts::rules::Rules,
) -> Result<Vec<policydiff::facts::FactChange>> {
    if let Some(id) = fact
        && rules.get(id).is_none()
    {
        let known: Vec<&str> = rules.rules.iter().map(|r| r.source.id.as_str()).collect();
        return Err(Error::argument(format!(
            "--fact {id}: no such fact; the facts are {}",
            known.join(", ")
        )));
    }
    let mut changes: Vec<policydiff::facts::FactChange> = services
        .into_iter()
        .flat_map(|service| service.history.unwrap_or_default())
        .filter(|change| fact.is_none_or(|id| change.id == id))
        .filter(|change| since.is_none_or(|since| change.date.as_str() >= since))
        .collect();
    changes.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| a.document.service.cmp(&b.document.service))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(changes)
}

/// A fact change in one line, with its first quotation.
fn fact_change_line(change: &policydiff::facts::FactChange) -> String {
    let mut line = format!(
        "{}  {}  {}: {} → {}  ({}, {})\n",
        change.date,
        change.document.service,
        change.id,
        change.from,
        change.to,
        change.document.terms_type,
        &change.commit[..change.commit.len().min(12)]
    );
    if let Some(evidence) = change.evidence.first() {
        line.push_str(&format!("    “{}”\n", evidence.quote));
    }
    line
}

fn facts(config_path: Option<&Path>, args: FactsArgs) -> Result<ExitCode> {
    use policydiff::facts::{self, card, rules::Rules};
    let (config, repository) = open_repository(config_path, args.repo.as_ref())?;
    let rules =
        Rules::with_additions(&config.facts).map_err(|e| Error::argument(format!("facts: {e}")))?;
    // A day given alone means the whole day.
    let at = match &args.at {
        Some(text) if text.len() == 10 => Some(
            date_argument("at", text)? + chrono::Duration::days(1) - chrono::Duration::seconds(1),
        ),
        Some(text) => Some(date_argument("at", text)?),
        None => None,
    };
    let mut services = facts::repository_facts(&repository, args.service.as_deref(), &rules, at)?;
    // Last verified: the last round that fetched the service's documents without failure.
    let runs = policydiff::report::RunLog::in_state(&config.state)
        .recent(1000)
        .unwrap_or_default();
    for service in &mut services {
        if at.is_none()
            && let Some(verified) = policydiff::report::last_verified(&runs, &service.service)
        {
            service.last_verified = Some(verified);
        }
        if !args.history && !args.changes {
            service.history = None;
        }
    }
    let format = if args.json {
        FactsFormat::Json
    } else {
        args.format.unwrap_or(FactsFormat::Text)
    };
    let commit_url = config.memos.commit_url.as_deref();
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    };
    if args.changes {
        let since = args
            .since
            .as_deref()
            .map(|text| date_argument("since", text))
            .transpose()?
            .map(|date| date.format("%Y-%m-%d").to_string());
        let changes = fact_changes(services, args.fact.as_deref(), since.as_deref(), &rules)?;
        let text = match format {
            FactsFormat::Json => {
                serde_json::to_string_pretty(&serde_json::json!({ "changes": changes }))
                    .map_err(|e| Error::internal("serialising fact changes", e))?
                    + "\n"
            }
            FactsFormat::Atom => policydiff::notify::fact_changes_feed(
                &config,
                args.repo.as_deref().unwrap_or(&config.snapshots),
                &changes,
            )?,
            FactsFormat::Text => changes.iter().map(fact_change_line).collect(),
            FactsFormat::Markdown | FactsFormat::Html => {
                return Err(Error::argument(
                    "--changes is written as text, json or atom; use --format text, json or atom",
                ));
            }
        };
        match &args.out {
            Some(path) => write(path, &text)?,
            None => print!("{text}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == FactsFormat::Atom {
        return Err(Error::argument(
            "--format atom is the feed of --changes; add --changes, or use text, markdown, html or json",
        ));
    }
    match format {
        FactsFormat::Json => {
            let text = serde_json::to_string_pretty(&serde_json::json!({ "services": services }))
                .map_err(|e| Error::internal("serialising facts", e))?;
            match &args.out {
                Some(path) => write(path, &format!("{text}\n"))?,
                None => println!("{text}"),
            }
        }
        FactsFormat::Html | FactsFormat::Markdown => {
            let html = format == FactsFormat::Html;
            let extension = if html { "html" } else { "md" };
            let render = |service: &facts::ServiceFacts| -> Result<String> {
                if html {
                    card::html(service, commit_url)
                } else {
                    Ok(card::markdown(service, commit_url))
                }
            };
            match (&args.out, services.as_slice()) {
                (Some(path), [one]) if !path.is_dir() => write(path, &render(one)?)?,
                (Some(dir), _) => {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
                    for service in &services {
                        let path =
                            dir.join(format!("{}.{extension}", memo::slug(&service.service)));
                        write(&path, &render(service)?)?;
                        println!("{}", path.display());
                    }
                }
                (None, [one]) => print!("{}", render(one)?),
                (None, _) if format == FactsFormat::Markdown => {
                    for service in &services {
                        println!("{}", render(service)?);
                    }
                }
                (None, _) => {
                    return Err(Error::argument(
                        "one HTML card per service: name a SERVICE, or give --out FOLDER for every service's card",
                    ));
                }
            }
        }
        FactsFormat::Text | FactsFormat::Atom => output::print_facts(&services),
    }
    Ok(ExitCode::SUCCESS)
}
