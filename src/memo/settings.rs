//! The memos' settings (`memos:` in config.yaml), read by [`crate::config`].

use std::path::PathBuf;

use serde::Deserialize;

/// How change memos are written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoConfig {
    /// Folder of memos.
    pub dir: PathBuf,
    /// Link to a change, with `{commit}` (e.g. `https://github.com/org/versions/commit/{commit}`).
    pub commit_url: Option<String>,
    /// The memos' author (front matter).
    pub author: String,
    /// Collections the memos belong to (front matter).
    pub related_collections: Vec<String>,
    /// Extra keywords for topics, or new topics: `{topic: [keyword, …]}`.
    pub topics: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for MemoConfig {
    fn default() -> Self {
        MemoConfig {
            dir: "memos".into(),
            commit_url: None,
            author: "policydiff".into(),
            related_collections: Vec::new(),
            topics: Default::default(),
        }
    }
}
