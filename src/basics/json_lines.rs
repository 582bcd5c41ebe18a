//! An append-only log of JSON values, one per line, read back from its end.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// A file of one JSON value per line: lines are only ever appended, and the latest are read
/// without reading the whole file (such logs grow for years).
#[derive(Debug, Clone)]
pub struct JsonLines {
    path: PathBuf,
}

impl JsonLines {
    /// The log kept in `path` (created on the first append).
    pub fn at(path: PathBuf) -> Self {
        JsonLines { path }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends each value as one line, in one write (a reader never sees half of them).
    pub fn append<T: Serialize>(&self, values: &[T]) -> Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let mut lines = String::new();
        for value in values {
            let line = serde_json::to_string(value).map_err(|e| {
                Error::internal(format!("writing a line of {}", self.path.display()), e)
            })?;
            lines.push_str(&line);
            lines.push('\n');
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create the folder {}", dir.display()), e))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut file| file.write_all(lines.as_bytes()))
            .map_err(|e| Error::io(format!("cannot append to {}", self.path.display()), e))
    }

    /// Every value, oldest first; lines that do not parse are skipped; no file, no values.
    pub fn read_all<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(parsed(text.lines())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(format!("cannot read {}", self.path.display()), e)),
        }
    }

    /// The latest `count` values, oldest first; lines that do not parse are skipped.
    pub fn recent<T: DeserializeOwned>(&self, count: usize) -> Result<Vec<T>> {
        let lines = last_lines(&self.path, count)
            .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
        Ok(parsed(lines.iter().map(String::as_str)))
    }
}

fn parsed<'a, T: DeserializeOwned>(lines: impl Iterator<Item = &'a str>) -> Vec<T> {
    lines
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The last `count` non-empty lines of a file, read from its end.
fn last_lines(path: &Path, count: usize) -> std::io::Result<Vec<String>> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let length = file.seek(SeekFrom::End(0))?;
    let mut position = length;
    let mut tail: Vec<u8> = Vec::new();
    const CHUNK: u64 = 256 * 1024;
    while position > 0 && tail.iter().filter(|&&b| b == b'\n').count() <= count {
        let step = CHUNK.min(position);
        position -= step;
        file.seek(SeekFrom::Start(position))?;
        let mut chunk = vec![0u8; step as usize];
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
    }
    let text = String::from_utf8_lossy(&tail);
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let skip = lines.len().saturating_sub(count);
    Ok(lines[skip..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_values_are_read_from_the_end_and_bad_lines_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let log = JsonLines::at(dir.path().join("state").join("log.jsonl"));
        assert!(log.recent::<u32>(3).unwrap().is_empty());
        log.append(&[1u32, 2]).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"{not json\n")
            .unwrap();
        log.append(&[3u32, 4]).unwrap();
        assert_eq!(log.recent::<u32>(2).unwrap(), [3, 4]);
        assert_eq!(log.read_all::<u32>().unwrap(), [1, 2, 3, 4]);
    }
}
