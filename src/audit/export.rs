//! Export: a dataset archive of a versions repository, in the shape of OTA's datasets.
//!
//! [`export`] writes a zip file with one folder per service and terms type and one Markdown file
//! per version named by its date (`<Service>/<Terms type>/2024-05-01T08-00-00Z.md`, colons
//! left out so that every file system accepts the name), plus a `README.md` describing the
//! collection (period, counts, the repository's commit the export was taken from, the engine)
//! and the repository's licence (`LICENSE`) when it has one. Texts are read straight from git's
//! objects. The archive is reproducible: the same repository and options give the same bytes
//! (entries in a fixed order, each dated by its version).
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use policydiff::audit::export::{ExportOptions, export};
//! use policydiff::record::{NewVersion, VersionsRepository};
//! use policydiff::declaration::DocumentId;
//!
//! let mut repo = VersionsRepository::open_or_create(&dir.path().join("versions"), "bot", "bot@example.org").unwrap();
//! let version = NewVersion { document: DocumentId::new("Example", "Privacy Policy"), text: "v1",
//!     sources: vec![], fetched_at: chrono::Utc::now(), declaration_sha256: String::new(), technical: false };
//! repo.record(&version).unwrap();
//! let out = dir.path().join("dataset.zip");
//! let summary = export(&repo, &out, &ExportOptions::default()).unwrap();
//! assert_eq!(summary.versions, 1);
//! ```

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

use crate::audit::History;
use crate::record::VersionsRepository;
use crate::{Error, Result};

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Only versions recorded at or after this date.
    pub since: Option<DateTime<Utc>>,
    /// The collection's name in the README (default: the repository folder's name).
    pub name: Option<String>,
}

/// What was exported.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// Services in the archive.
    pub services: usize,
    /// Documents (service and terms type) in the archive.
    pub documents: usize,
    /// Version files in the archive.
    pub versions: usize,
    /// The repository's commit the export reflects.
    pub commit: Option<String>,
    /// First and last version dates.
    pub first: Option<DateTime<Utc>>,
    /// Last version date.
    pub last: Option<DateTime<Utc>>,
}

/// The archive path of every version, in the order given (each document's history order):
/// `<root>/<Service>/<Terms type>/<date>.md`, and for a date the document already used — several
/// versions recorded in one second, technical upgrades that keep their version's date, dates
/// that go back — `<date>-2.md`, `-3`… in that order. Unique, and the same for the same history.
fn unique_file_names(root: &str, versions: &[&crate::audit::LoggedChange]) -> Vec<String> {
    let mut used: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    versions
        .iter()
        .map(|version| {
            let base = format!(
                "{root}/{}/{}/{}",
                version.document.service,
                version.document.terms_type,
                version_file_name(version.date)
            );
            let mut count = used.get(&base).copied().unwrap_or(0);
            loop {
                count += 1;
                let name = if count == 1 {
                    base.clone()
                } else {
                    format!("{}-{count}.md", base.trim_end_matches(".md"))
                };
                // A `-2` name may itself be taken only by another `-2` of the same base, which the
                // count rules out; the check keeps the names unique whatever the dates are.
                if !used.contains_key(&name) {
                    used.insert(base.clone(), count);
                    used.insert(name.clone(), 1);
                    break name;
                }
            }
        })
        .collect()
}

/// The file name of a version: its date, without colons.
pub fn version_file_name(date: DateTime<Utc>) -> String {
    format!("{}.md", date.format("%Y-%m-%dT%H-%M-%SZ"))
}

fn zip_date(date: DateTime<Utc>) -> zip::DateTime {
    // Zip dates cover 1980 to 2107; others (never seen in practice) take the format's first day.
    zip::DateTime::from_date_and_time(
        date.year().clamp(1980, 2107) as u16,
        date.month() as u8,
        date.day() as u8,
        date.hour() as u8,
        date.minute() as u8,
        date.second() as u8,
    )
    .unwrap_or_default()
}

/// Writes the dataset archive of `repository` to `out` (through a temporary file, so that an
/// interrupted export never leaves a truncated archive under the final name).
pub fn export(
    repository: &VersionsRepository,
    out: &Path,
    options: &ExportOptions,
) -> Result<ExportSummary> {
    let history = History::read(repository, None, None)?;
    // Per document, in recording order (which decides the `-2` of versions in the same second).
    let versions: Vec<&crate::audit::LoggedChange> = history
        .documents
        .values()
        .flatten()
        .filter(|v| options.since.is_none_or(|since| v.date >= since))
        .collect();
    let services: std::collections::BTreeSet<&str> = versions
        .iter()
        .map(|v| v.document.service.as_str())
        .collect();
    let documents: std::collections::BTreeSet<(&str, &str)> = versions
        .iter()
        .map(|v| (v.document.service.as_str(), v.document.terms_type.as_str()))
        .collect();
    let summary = ExportSummary {
        services: services.len(),
        documents: documents.len(),
        versions: versions.len(),
        commit: repository.resolve("HEAD").ok(),
        first: versions.iter().map(|v| v.date).min(),
        last: versions.iter().map(|v| v.date).max(),
    };
    let name = options.name.clone().unwrap_or_else(|| {
        repository
            .path()
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "versions".into())
    });
    let root = crate::memo::slug(&name);
    let licence = repository.read_current("LICENSE");

    let failed = |e: std::io::Error| {
        Error::io(
            format!("cannot write the archive {}: {e}", out.display()),
            e,
        )
    };
    let temporary = out.with_extension(format!("zip.part{}", std::process::id()));
    let file = std::fs::File::create(&temporary).map_err(failed)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    // A zip error is an I/O failure (with its kind, so the message says what to do) or a bug.
    let zip_failed = |e: zip::result::ZipError| match e {
        zip::result::ZipError::Io(io) => failed(io),
        // The zip library's own words can hold debug forms: say what it refused instead.
        other => Error::internal(
            format!("writing the archive {}", out.display()),
            match other {
                zip::result::ZipError::InvalidArchive(_) => {
                    "an entry was refused (a duplicate name)"
                }
                zip::result::ZipError::UnsupportedArchive(_) => "an entry is not supported",
                _ => "the zip library failed",
            },
        ),
    };
    let options_at = |date: DateTime<Utc>| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip_date(date))
            .unix_permissions(0o644)
    };
    let written = (|| -> Result<()> {
        let readme_date = summary.last.unwrap_or_default();
        zip.start_file(format!("{root}/README.md"), options_at(readme_date))
            .map_err(zip_failed)?;
        zip.write_all(readme(&name, &summary, options, licence.is_some(), &documents).as_bytes())
            .map_err(failed)?;
        if let Some(licence) = &licence {
            zip.start_file(format!("{root}/LICENSE"), options_at(readme_date))
                .map_err(zip_failed)?;
            zip.write_all(licence).map_err(failed)?;
        }
        let names = unique_file_names(&root, &versions);
        for (version, file_name) in versions.iter().zip(names) {
            let text = history.text(version)?;
            zip.start_file(file_name, options_at(version.date))
                .map_err(zip_failed)?;
            zip.write_all(text.as_bytes()).map_err(failed)?;
        }
        zip.finish().map_err(zip_failed)?.flush().map_err(failed)
    })();
    if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, out).map_err(failed)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(summary)
}

fn readme(
    name: &str,
    summary: &ExportSummary,
    options: &ExportOptions,
    has_licence: bool,
    documents: &std::collections::BTreeSet<(&str, &str)>,
) -> String {
    let day = |d: Option<DateTime<Utc>>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let mut text = format!("# {name}: dataset of recorded versions\n\n");
    text.push_str(&format!(
        "Versions of {} documents of {} services, {} versions in all, recorded from {} to {}{}.\n\n",
        summary.documents,
        summary.services,
        summary.versions,
        day(summary.first),
        day(summary.last),
        options
            .since
            .map(|s| format!(" (versions since {} only)", s.format("%Y-%m-%d")))
            .unwrap_or_default()
    ));
    text.push_str(
        "Each folder is a service; inside, one folder per terms type holds one Markdown file per \
         version, named by the date it was recorded (UTC, `YYYY-MM-DDTHH-MM-SSZ`). A version is \
         the text in force from its date until the next file's date; two versions recorded in \
         the same second are told apart by `-2`, `-3`… after the date, in recording order.\n\n",
    );
    text.push_str(&format!(
        "- Exported from the versions repository at commit `{}`\n- Exported by policydiff {}\n",
        summary.commit.as_deref().unwrap_or("(empty)"),
        env!("CARGO_PKG_VERSION")
    ));
    if has_licence {
        text.push_str("- Licence: see `LICENSE`, the licence of the versions repository\n");
    } else {
        text.push_str(
            "- Licence: the versions repository has no LICENSE file; ask its maintainers before reuse\n",
        );
    }
    text.push_str("\n## Documents\n\n");
    for (service, terms) in documents {
        text.push_str(&format!("- {service} — {terms}\n"));
    }
    text
}
