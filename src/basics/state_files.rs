//! The files of the state folder (`state:` in config.yaml) and of the memos folder, named in
//! one place: every module that reads or writes one asks here for its path.

use std::path::{Path, PathBuf};

/// `<state>/runs.jsonl`: every round's report, one per line.
pub fn runs(state: &Path) -> PathBuf {
    state.join("runs.jsonl")
}

/// `<state>/failures.json`: each document's current failure streak.
pub fn failure_streaks(state: &Path) -> PathBuf {
    state.join("failures.json")
}

/// `<state>/daemon.json`: what the daemon is doing (its pid, its next round).
pub fn daemon_state(state: &Path) -> PathBuf {
    state.join("daemon.json")
}

/// `<state>/daemon.lock`: held by the running daemon.
pub fn daemon_lock(state: &Path) -> PathBuf {
    state.join("daemon.lock")
}

/// `<state>/publish.json`: what pushing the versions to the remote last did.
pub fn publish_state(state: &Path) -> PathBuf {
    state.join("publish.json")
}

/// `<state>/sources-seen.json`: what each document's recorded text was extracted from.
pub fn sources_seen(state: &Path) -> PathBuf {
    state.join("sources-seen.json")
}

/// `<state>/held/<service>/<terms type>.sha256`: a suspicious shrink waiting to be seen again.
pub fn held_back(state: &Path, service: &str, terms_type: &str) -> PathBuf {
    state
        .join("held")
        .join(service)
        .join(format!("{terms_type}.sha256"))
}

/// `<memos>/fact-changes.jsonl`: every change of a policy fact's answer, one per line.
pub fn fact_changes(memos: &Path) -> PathBuf {
    memos.join("fact-changes.jsonl")
}

/// `<memos>/feed.xml`: the Atom feed of the latest memos, whatever their status.
pub fn feed(memos: &Path) -> PathBuf {
    memos.join("feed.xml")
}

/// `<memos>/published.xml`: the public Atom feed of published memos.
pub fn published_feed(memos: &Path) -> PathBuf {
    memos.join("published.xml")
}
