//! The command line's grammar: clap types only, no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "policydiff",
    version,
    about = "Track changes to privacy policies and terms of service"
)]
pub(crate) struct Cli {
    /// Configuration file (default: config.yaml when present).
    #[arg(long, global = true)]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Push the versions to the remote of `publish:` in config.yaml (rounds do it themselves).
    Publish(PublishArgs),
    /// Draft the memo of recorded changes, or analyse two files.
    Memo(MemoArgs),
    /// Policy facts per service (does it train AI on your data? can you opt out?), each answer
    /// with its evidence, from the recorded texts.
    Facts(FactsArgs),
    /// Review drafted memos: the queue, approve, reject, edit, export, and a local web page.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Track a bundled policy served from 127.0.0.1 twice, and show what was recorded (no internet needed).
    Demo(DemoArgs),
    /// Check declarations offline; one line per problem, non-zero exit on errors.
    Validate(ValidateArgs),
    /// Extract the Markdown text of a saved page, with a declaration's rules or given selectors.
    Extract(ExtractArgs),
}

#[derive(Args)]
pub(crate) struct TrackArgs {
    /// Documents to track, as SERVICE or SERVICE/TERMS TYPE (default: all).
    pub(crate) documents: Vec<String>,
    /// Print the run report as JSON on standard output.
    #[arg(long)]
    pub(crate) json: bool,
    /// Only errors.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// More detail (each retry, each request).
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

#[derive(Args)]
pub(crate) struct RepoArgs {
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    pub(crate) repo: Option<PathBuf>,
    /// As JSON, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct LogArgs {
    /// Service id.
    pub(crate) service: Option<String>,
    /// Terms type.
    pub(crate) terms: Option<String>,
    /// Only versions from this date.
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// Only versions up to this date.
    #[arg(long)]
    pub(crate) until: Option<String>,
    /// Only versions whose memo has this topic.
    #[arg(long)]
    pub(crate) topic: Option<String>,
    /// Only versions whose memo is at least this significant.
    #[arg(long)]
    pub(crate) min_significance: Option<f64>,
    #[command(flatten)]
    pub(crate) repo: RepoArgs,
}

#[derive(Args)]
pub(crate) struct ShowArgs {
    /// Service id.
    pub(crate) service: String,
    /// Terms type.
    pub(crate) terms: String,
    /// The version in force at this date (YYYY-MM-DD or RFC 3339; default: now).
    #[arg(long, conflicts_with = "commit")]
    pub(crate) at: Option<String>,
    /// The version recorded by (or in force at) this commit.
    #[arg(long)]
    pub(crate) commit: Option<String>,
    #[command(flatten)]
    pub(crate) repo: RepoArgs,
}

#[derive(Args)]
pub(crate) struct DiffArgs {
    /// Service id.
    pub(crate) service: String,
    /// Terms type.
    pub(crate) terms: String,
    /// From this date or revision.
    #[arg(long)]
    pub(crate) from: String,
    /// To this date or revision (default: the latest version).
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Word by word instead of line by line.
    #[arg(long)]
    pub(crate) words: bool,
    /// unified (default) or html (a self-contained side-by-side page on standard output).
    #[arg(long, value_enum, default_value = "unified")]
    pub(crate) format: DiffFormat,
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    pub(crate) repo: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum DiffFormat {
    Unified,
    Html,
}

#[derive(Args)]
pub(crate) struct ServicesArgs {
    #[command(flatten)]
    pub(crate) repo: RepoArgs,
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    /// The archive to write (FILE.zip).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Only versions recorded at or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// The collection's name in the archive's README (default: the repository folder's name).
    #[arg(long)]
    pub(crate) name: Option<String>,
    #[command(flatten)]
    pub(crate) repo: RepoArgs,
}

#[derive(Args)]
pub(crate) struct PublishArgs {
    /// Print the outcome as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct StatusArgs {
    /// As JSON, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct DaemonArgs {
    /// Only errors.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// More detail.
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

#[derive(Args)]
pub(crate) struct MemoArgs {
    /// Service id (folder of the versions repository).
    #[arg(conflicts_with_all = ["all", "before"])]
    pub(crate) service: Option<String>,
    /// Terms type.
    #[arg(requires = "service")]
    pub(crate) terms: Option<String>,
    /// The change to draft (default: the latest change of the document).
    #[arg(long, requires = "service")]
    pub(crate) commit: Option<String>,
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    pub(crate) repo: Option<PathBuf>,
    /// Every change of the repository.
    #[arg(long)]
    pub(crate) all: bool,
    /// With --all: only changes from this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, requires = "all")]
    pub(crate) since: Option<String>,
    /// Where memos are written (default: memos.dir of the configuration).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Analyse two files instead: the previous version…
    #[arg(long, requires_all = ["after", "service_name", "terms_type"])]
    pub(crate) before: Option<PathBuf>,
    /// …the new version,
    #[arg(long, requires = "before")]
    pub(crate) after: Option<PathBuf>,
    /// …the service,
    #[arg(long = "service", id = "service_name", requires = "before")]
    pub(crate) service_name: Option<String>,
    /// …the terms type,
    #[arg(long = "terms", id = "terms_type", requires = "before")]
    pub(crate) terms_type: Option<String>,
    /// …and the date of the change (default: today).
    #[arg(long, requires = "before")]
    pub(crate) date: Option<String>,
    /// Output of the two-file form.
    #[arg(long, value_enum, default_value = "markdown")]
    pub(crate) format: MemoFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum MemoFormat {
    Markdown,
    Json,
}

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Keep the demonstration's files in this folder (default: a temporary folder, removed after).
    #[arg(long)]
    pub(crate) dir: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// Declaration files or folders (default: declarations/).
    pub(crate) paths: Vec<PathBuf>,
    /// Also fail on unsupported features (JavaScript filters).
    #[arg(long)]
    pub(crate) strict: bool,
}

#[derive(Args)]
pub(crate) struct ExtractArgs {
    /// Saved pages (`-` for standard input); one per source document of a combined declaration.
    #[arg(required = true)]
    pub(crate) files: Vec<String>,
    /// The page's URL, against which links are made absolute.
    #[arg(long)]
    pub(crate) location: Option<String>,
    /// CSS selector of the content (repeatable, applied in order).
    #[arg(long = "select")]
    pub(crate) select: Vec<String>,
    /// CSS selector of content to remove first (repeatable).
    #[arg(long = "remove")]
    pub(crate) remove: Vec<String>,
    /// Built-in filter: NAME, or NAME=JSON parameters (e.g. 'removeQueryParams=["utm_source"]').
    #[arg(long = "filter")]
    pub(crate) filter: Vec<String>,
    /// Content type of the input (e.g. application/pdf for a PDF on standard input).
    #[arg(long)]
    pub(crate) content_type: Option<String>,
    /// Use the rules of this declaration file…
    #[arg(long, requires = "terms", conflicts_with_all = ["select", "remove", "filter"])]
    pub(crate) declaration: Option<PathBuf>,
    /// …for this terms type.
    #[arg(long, requires = "declaration")]
    pub(crate) terms: Option<String>,
    /// With --declaration: the rules in force at this date (YYYY-MM-DD or RFC 3339), from its history.
    #[arg(long, requires = "declaration")]
    pub(crate) at: Option<String>,
}

#[derive(Args)]
pub(crate) struct FactsArgs {
    /// One service (default: every service of the repository).
    pub(crate) service: Option<String>,
    /// A versions repository in OTA's layout (default: the configured snapshots).
    #[arg(long)]
    pub(crate) repo: Option<PathBuf>,
    /// The answers as the texts in force at this date gave them (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub(crate) at: Option<String>,
    /// Each fact's changes over time, with the commit that changed it.
    #[arg(long)]
    pub(crate) history: bool,
    /// Every change of an answer across the services, newest first (text, json or atom).
    #[arg(long)]
    pub(crate) changes: bool,
    /// With --changes: only this fact's changes (its id, e.g. ai_training).
    #[arg(long, requires = "changes")]
    pub(crate) fact: Option<String>,
    /// With --changes: only changes from this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, requires = "changes")]
    pub(crate) since: Option<String>,
    /// As JSON (same as --format json).
    #[arg(long)]
    pub(crate) json: bool,
    /// Text (default), markdown, html (a verdict card per service) or json.
    #[arg(long, value_enum)]
    pub(crate) format: Option<FactsFormat>,
    /// Write there instead of standard output (a folder for the cards of several services).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FactsFormat {
    Text,
    Markdown,
    Html,
    Json,
    /// An Atom feed (with --changes).
    Atom,
}

#[derive(Subcommand)]
pub(crate) enum ReviewCommand {
    /// The memos to review, most significant first.
    List(ReviewListArgs),
    /// Publish a memo: `status: published`, with who and when. Refuses a memo that quotes words
    /// its versions do not hold, naming each.
    Approve(ReviewApproveArgs),
    /// Reject a memo with a reason; the memo is kept.
    Reject(ReviewRejectArgs),
    /// Change a memo's title or description, or (without flags) open it in $EDITOR.
    Edit(ReviewEditArgs),
    /// Write the published memos in the layout of Open Terms Archive's website.
    Export(ReviewExportArgs),
    /// Serve the review page on 127.0.0.1 and print its address.
    Serve(ReviewServeArgs),
}

#[derive(Args)]
pub(crate) struct ReviewListArgs {
    /// Which memos, by status.
    #[arg(long, value_enum, default_value = "draft")]
    pub(crate) status: policydiff::review::StatusFilter,
    /// Only this service.
    #[arg(long)]
    pub(crate) service: Option<String>,
    /// Only memos with this topic.
    #[arg(long)]
    pub(crate) topic: Option<String>,
    /// As a JSON array, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct ReviewApproveArgs {
    /// The memo's id (shown by `review list`; its file name without extension).
    pub(crate) id: String,
    /// The reviewer's name (default: $USER).
    #[arg(long)]
    pub(crate) by: Option<String>,
    /// Approve even when a quotation is not in the versions (the words are the reviewer's).
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct ReviewRejectArgs {
    /// The memo's id.
    pub(crate) id: String,
    /// Why: kept in the memo's front matter.
    #[arg(long)]
    pub(crate) reason: String,
    /// The reviewer's name (default: $USER).
    #[arg(long)]
    pub(crate) by: Option<String>,
}

#[derive(Args)]
pub(crate) struct ReviewEditArgs {
    /// The memo's id.
    pub(crate) id: String,
    /// A new title.
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// A new description (one paragraph of plain text).
    #[arg(long)]
    pub(crate) description: Option<String>,
}

#[derive(Args)]
pub(crate) struct ReviewExportArgs {
    /// The root of a checkout of OTA's website: memos go to `content/memos/<slug>/index.md`.
    #[arg(long)]
    pub(crate) ota: PathBuf,
}

#[derive(Args)]
pub(crate) struct ReviewServeArgs {
    /// Port (0: any free port).
    #[arg(long, default_value_t = 7878)]
    pub(crate) port: u16,
    /// Listen on this address instead of 127.0.0.1; needs POLICYDIFF_REVIEW_PASSWORD.
    #[arg(long)]
    pub(crate) bind: Option<std::net::IpAddr>,
    /// The reviewer's name recorded with approvals (default: $USER).
    #[arg(long)]
    pub(crate) by: Option<String>,
}

impl Command {
    /// The command's name, as error messages start with it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Track(_) => "track",
            Command::Daemon(_) => "daemon",
            Command::Log(_) => "log",
            Command::Show(_) => "show",
            Command::Diff(_) => "diff",
            Command::Services(_) => "services",
            Command::Verify(_) => "verify",
            Command::Export(_) => "export",
            Command::Status(_) => "status",
            Command::Publish(_) => "publish",
            Command::Memo(_) => "memo",
            Command::Review(_) => "review",
            Command::Facts(_) => "facts",
            Command::Demo(_) => "demo",
            Command::Validate(_) => "validate",
            Command::Extract(_) => "extract",
        }
    }
}
