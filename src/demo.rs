//! A self-contained demonstration for a machine without internet.
//!
//! [`run`] serves two successive versions of a bundled privacy policy from
//! 127.0.0.1, tracks twice into a fresh versions repository with the same code as
//! `policydiff track`, and returns what a newcomer should see: the log of recorded
//! versions, the change between them, and the memo drafted for it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::Config;
use crate::record::VersionsRepository;
use crate::report::{RunLog, RunReport};
use crate::track;
use crate::{Error, Result};

const VERSION_1: &str = include_str!("demo/privacy-v1.html");
const VERSION_2: &str = include_str!("demo/privacy-v2.html");

/// What the demonstration produced.
pub struct Demo {
    /// Where the versions repository is.
    pub repository: PathBuf,
    /// The two rounds.
    pub rounds: Vec<RunReport>,
    /// `date  commit  subject`, newest first.
    pub log: Vec<String>,
    /// The change between the two versions, as a unified diff of the text.
    pub diff: String,
    /// The memo drafted for the change (front matter and body), as written in the memos folder.
    pub memo: Option<String>,
    /// Where the memo was written.
    pub memo_path: Option<PathBuf>,
}

async fn serve(listener: tokio::net::TcpListener, page: Arc<Mutex<&'static str>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let page = page.clone();
        tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let _ = stream.read(&mut request).await;
            let body = *page
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// Runs the demonstration in `dir` (created if needed).
pub async fn run(dir: &Path) -> Result<Demo> {
    let io = |what: &str, e: std::io::Error| Error::io(format!("demo: {what}"), e);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| io("cannot listen on 127.0.0.1", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| io("no local address", e))?
        .port();
    let page = Arc::new(Mutex::new(VERSION_1));
    let server = tokio::spawn(serve(listener, page.clone()));

    let declarations = dir.join("declarations");
    std::fs::create_dir_all(&declarations)
        .map_err(|e| io("cannot create the declarations folder", e))?;
    let declaration = serde_json::json!({
        "name": "Demo Social",
        "terms": {"Privacy Policy": {
            "fetch": format!("http://127.0.0.1:{port}/privacy"),
            "select": "main",
            "remove": ".cookie-banner"
        }}
    });
    std::fs::write(
        declarations.join("Demo Social.json"),
        declaration.to_string(),
    )
    .map_err(|e| io("cannot write the declaration", e))?;
    let mut config = Config::from_yaml(
        "fetch:\n  allow_private_addresses: true\n  per_host_delay: 0s\n",
        dir,
    )?;
    config.author.name = "policydiff demo".into();

    let mut rounds = Vec::new();
    rounds.push(track::track(&config, &[], &mut RunLog::in_state(&config.state)).await?);
    *page
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = VERSION_2;
    rounds.push(track::track(&config, &[], &mut RunLog::in_state(&config.state)).await?);
    server.abort();

    let repository =
        VersionsRepository::open_or_create(&config.snapshots, "policydiff demo", "demo@localhost")?;
    let versions = repository.version_blobs("Demo Social", "Privacy Policy")?;
    let log = repository.log_lines()?;
    let diff = match versions.as_slice() {
        [(_, newest), (_, previous), ..] => similar::TextDiff::from_lines(
            repository.blob_text(*previous)?.as_str(),
            repository.blob_text(*newest)?.as_str(),
        )
        .unified_diff()
        .context_radius(1)
        .header("Privacy Policy (before)", "Privacy Policy (after)")
        .to_string(),
        _ => String::new(),
    };
    let memo_path = rounds
        .last()
        .and_then(|round| round.documents.iter().find_map(|d| d.memo.clone()))
        .map(PathBuf::from);
    let memo = match &memo_path {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| io(&format!("cannot read the memo {}", path.display()), e))?,
        ),
        None => None,
    };
    Ok(Demo {
        repository: config.snapshots.clone(),
        rounds,
        log,
        diff,
        memo,
        memo_path,
    })
}
