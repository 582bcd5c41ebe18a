//! When a round's commits reach the disk: the batching policy. Commits wait in memory for their
//! batch (one pack, then the branch moves), which is written once enough have gathered or the
//! oldest has waited long enough — shorter when a change waits to be drafted (drafting reads
//! the batch on disk), longest for first records (nothing to draft: fewer, larger packs).

use std::time::{Duration, Instant};

use super::VersionsRepository;
use crate::Result;

/// Commits made and not yet written to disk, each with what the caller tells once it is
/// written (`T`: in a round, the document's report and its drafting job).
#[derive(Debug)]
pub struct PendingCommits<T> {
    commits: Vec<T>,
    /// When the oldest of them was made.
    since: Option<Instant>,
    /// Whether one of them has a memo to draft (it is more than a first record).
    to_draft: bool,
}

impl<T> Default for PendingCommits<T> {
    fn default() -> Self {
        PendingCommits {
            commits: Vec::new(),
            since: None,
            to_draft: false,
        }
    }
}

impl<T> PendingCommits<T> {
    /// Commits written in one pack, at most (their blobs wait in memory, ~40 kB each, and a
    /// root tree each).
    pub const MOST: usize = 256;
    /// How long a change waits for its batch, at most: its memo is drafted only once the batch
    /// is on disk, so drafting keeps up with recording.
    pub const LONGEST_WAIT_TO_DRAFT: Duration = Duration::from_millis(500);
    /// How long a change waits for its batch when the drafting threads have nothing to do:
    /// they start on it while the round still fetches, rather than all at its end.
    pub const SHORTEST_WAIT_TO_DRAFT: Duration = Duration::from_millis(100);
    /// How long a first record waits, at most: nothing is drafted for it, so longer, for fewer
    /// packs (`git gc --auto` gathers packs once there are tens of them). A process killed
    /// loses at most this much of its round's work, which the next round records.
    pub const LONGEST_WAIT: Duration = Duration::from_secs(5);

    /// A commit just made (in the repository's batch) waits; `to_draft`: whether a memo will be
    /// drafted for it.
    pub fn push(&mut self, commit: T, to_draft: bool) {
        self.since.get_or_insert_with(Instant::now);
        self.to_draft |= to_draft;
        self.commits.push(commit);
    }

    /// Whether the batch is to be written now (enough commits, or the oldest waited enough);
    /// `drafters_idle`: whether the drafting threads have nothing to do.
    pub fn is_due(&self, drafters_idle: bool) -> bool {
        self.commits.len() >= Self::MOST
            || self
                .deadline(drafters_idle)
                .is_some_and(|deadline| deadline <= Instant::now())
    }

    /// When the batch must be written even if no other commit comes.
    pub fn deadline(&self, drafters_idle: bool) -> Option<Instant> {
        let wait = match (self.to_draft, drafters_idle) {
            (true, true) => Self::SHORTEST_WAIT_TO_DRAFT,
            (true, false) => Self::LONGEST_WAIT_TO_DRAFT,
            (false, _) => Self::LONGEST_WAIT,
        };
        self.since.map(|since| since + wait)
    }

    /// Writes the batch to `repository` and hands back the commits that waited, with whether
    /// they were written (when not, nothing of them is recorded).
    pub fn write(&mut self, repository: &mut VersionsRepository) -> (Vec<T>, Result<()>) {
        self.since = None;
        self.to_draft = false;
        if self.commits.is_empty() {
            return (Vec::new(), Ok(()));
        }
        let written = repository.write_batch().map(|_| ());
        (std::mem::take(&mut self.commits), written)
    }
}
