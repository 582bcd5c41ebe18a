//! The shared basics every stage leans on, written once: [`write_atomic`] (a file replaced
//! whole or not at all), [`JsonLines`] (an append-only log of one JSON value per line),
//! [`escape_html`] (text made safe for HTML and XML) and [`state_files`] (the names of the
//! files in the state folder).
//!
//! ```
//! use policydiff::basics::{JsonLines, escape_html, write_atomic};
//!
//! let dir = tempfile::tempdir().unwrap();
//! write_atomic(&dir.path().join("a.txt"), b"whole").unwrap();
//! assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"whole");
//!
//! let log = JsonLines::at(dir.path().join("log.jsonl"));
//! log.append(&[1, 2, 3]).unwrap();
//! assert_eq!(log.recent::<i32>(2).unwrap(), [2, 3]);
//!
//! assert_eq!(escape_html("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
//! ```

mod atomic;
mod escape;
mod json_lines;
pub mod state_files;

pub use atomic::write_atomic;
pub use escape::{escape_html, unescape_html};
pub use json_lines::JsonLines;
