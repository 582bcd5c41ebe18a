//! What the commands print for people: summaries, tables, the terminal's logging.

use std::io::IsTerminal;

use policydiff::audit::verify::Verification;
use policydiff::audit::{DocumentSpan, LoggedChange};
use policydiff::demo::Demo;
use policydiff::record::VersionKind;
use policydiff::report::{DocumentStatus, RunReport};
use policydiff::status::Report;

/// Logs on standard error: one line per document outcome by default; `RUST_LOG` overrides.
pub(crate) fn init_logging(quiet: bool, verbose: bool, interactive: bool) {
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

/// The end-of-round summary on standard error.
pub(crate) fn print_summary(report: &RunReport) {
    let count = |status| report.count(status);
    eprintln!(
        "recorded   {:>5}  (first record {}, new changes {}, technical upgrade {}, revert {})",
        report.recorded,
        count(DocumentStatus::Recorded(VersionKind::FirstRecord)),
        count(DocumentStatus::Recorded(VersionKind::NewChanges)),
        count(DocumentStatus::Recorded(VersionKind::TechnicalUpgrade)),
        count(DocumentStatus::Recorded(VersionKind::Revert))
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
    if let Some(publish) = &report.publish {
        eprintln!("{}", publish_line(publish));
    }
    for document in report
        .documents
        .iter()
        .filter(|d| d.status == DocumentStatus::Failed)
    {
        eprintln!(
            "  {} / {}: {}",
            document.document.service,
            document.document.terms_type,
            document.error.as_deref().unwrap_or("")
        );
    }
    eprintln!("in {:.1}s", report.duration_ms as f64 / 1000.0);
}

/// `log`: one line per version, newest first.
pub(crate) fn print_log(entries: &[&LoggedChange]) {
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
            e.document.service,
            e.document.terms_type
        );
    }
}

/// `show`: where the version comes from on standard error, its text on standard output.
pub(crate) fn print_version(version: &LoggedChange, text: &str) {
    eprintln!(
        "{} / {}: version of commit {} recorded {}{}",
        version.document.service,
        version.document.terms_type,
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

/// `services`: one line per document.
pub(crate) fn print_services(spans: &[DocumentSpan]) {
    for span in spans {
        println!(
            "{} / {}: {} versions, {} → {}",
            span.document.service,
            span.document.terms_type,
            span.versions,
            span.first.format("%Y-%m-%d"),
            span.last.format("%Y-%m-%d")
        );
    }
}

/// `verify`: one line per problem, then the counts.
pub(crate) fn print_verification(verification: &Verification) {
    for problem in &verification.problems {
        let commit = problem
            .commit
            .as_deref()
            .map(|c| format!("{c:.10} "))
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

/// `status`: the last and next rounds, what fails, what waits for people.
pub(crate) fn print_status(report: &Report) {
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
            failing.document.service,
            failing.document.terms_type,
            failing
                .error_class
                .map(policydiff::FailureClass::as_str)
                .unwrap_or("?"),
            failing.streak,
            if failing.streak == 1 { "" } else { "s" },
            failing.error.as_deref().unwrap_or("")
        );
    }
    println!("held back   {}", report.held_back.len());
    for document in &report.held_back {
        println!("  {} / {}", document.service, document.terms_type);
    }
    println!("memos to review {}", report.memos_to_review.len());
    for memo in &report.memos_to_review {
        println!(
            "  {:.2}  {}  ({})",
            memo.significance, memo.title, memo.path
        );
    }
    if let Some(publish) = &report.publish {
        println!(
            "publish     {} ({}): last push {}, {} commit{} unpushed",
            publish.remote,
            publish.branch,
            publish
                .last_push_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| "never".into()),
            publish.unpushed,
            if publish.unpushed == 1 { "" } else { "s" }
        );
        if let (Some(status), Some(error)) = (publish.last_status, &publish.last_error) {
            println!("  last attempt {}: {error}", status.as_str());
        }
    }
}

/// A push's outcome, in one line.
pub(crate) fn publish_line(report: &policydiff::publish::PublishReport) -> String {
    use policydiff::publish::PublishStatus;
    match report.status {
        PublishStatus::Pushed => format!(
            "publish: pushed {} commit{} to {} ({})",
            report.commits,
            if report.commits == 1 { "" } else { "s" },
            report.remote,
            report.branch
        ),
        PublishStatus::UpToDate => format!(
            "publish: {} ({}) is up to date",
            report.remote, report.branch
        ),
        PublishStatus::Failed | PublishStatus::Diverged => format!(
            "publish: {}: {}",
            report.status.as_str(),
            report.error.as_deref().unwrap_or("")
        ),
    }
}

/// `demo`: what was tracked, the versions log and the change.
pub(crate) fn print_demo(demo: &Demo, temporary: bool) {
    println!("Tracked a privacy policy served from 127.0.0.1 twice; its second version changed.\n");
    for (i, round) in demo.rounds.iter().enumerate() {
        let statuses: Vec<String> = round
            .documents
            .iter()
            .map(|d| {
                let status = d.status.as_str().replace('_', " ");
                format!(
                    "{} / {}: {status}",
                    d.document.service, d.document.terms_type
                )
            })
            .collect();
        println!("round {}: {}", i + 1, statuses.join(", "));
    }
    println!("\nVersions recorded in {}:", demo.repository.display());
    for line in &demo.log {
        println!("  {line}");
    }
    println!("\nWhat changed:\n{}", demo.diff);
    match (&demo.memo, &demo.memo_path) {
        (Some(memo), Some(path)) => {
            println!("The memo drafted for a reviewer ({}):\n", path.display());
            println!("{}", memo.trim_end());
        }
        _ => println!("(no memo was drafted: see the log above)"),
    }
    println!();
    if temporary {
        println!("(temporary files removed; use --dir PATH to keep the repository)");
    }
}

/// The review queue, one memo per line: significance, status, id, then the title.
pub(crate) fn print_queue(entries: &[policydiff::review::QueueEntry]) {
    if entries.is_empty() {
        println!("no memo");
        return;
    }
    for entry in entries {
        println!(
            "{:.2}  {:<9}  {}  {}",
            entry.significance, entry.status, entry.id, entry.title
        );
        let mut details = vec![
            entry.document.service.clone(),
            entry.document.terms_type.clone(),
        ];
        if !entry.topics.is_empty() {
            details.push(entry.topics.join(", "));
        }
        if let Some(reason) = &entry.rejection_reason {
            details.push(format!("rejected: {reason}"));
        }
        println!("      {}", details.join(" · "));
    }
}

/// Policy facts for a terminal: per service, one line per fact, then its evidence.
pub(crate) fn print_facts(services: &[policydiff::facts::ServiceFacts]) {
    for service in services {
        println!(
            "{} (last verified {})",
            service.service,
            service
                .last_verified
                .as_deref()
                .map_or("never", |d| &d[..d.len().min(10)])
        );
        for fact in &service.facts {
            let since = fact
                .since
                .as_ref()
                .map(|s| format!(" since {}", s.date))
                .unwrap_or_default();
            println!("  {:<28} {}{since}", fact.id, fact.summary());
            for evidence in &fact.evidence {
                println!(
                    "      “{}” ({}, {}, {:.12})",
                    evidence.quote, evidence.terms_type, evidence.date, evidence.commit
                );
            }
        }
        if let Some(history) = &service.history {
            for change in history {
                println!(
                    "  {} {:.12} {}: {} → {} ({})",
                    change.date,
                    change.commit,
                    change.id,
                    change.from,
                    change.to,
                    change.document.terms_type
                );
            }
        }
        println!();
    }
}
