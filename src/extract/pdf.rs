//! PDF → Markdown paragraphs, with poppler's `pdftotext`.
//!
//! pdftotext gives the cleanest reading-order text of real policy PDFs. It runs
//! as a separate process with a time limit, so a hostile PDF can neither crash
//! nor hang a run. Lines of a paragraph are joined with spaces, paragraphs are
//! separated by a blank line, and the text is escaped as Markdown like HTML text.
//! A PDF that yields no text fails with [`Error::PdfNoText`].

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::markdown::escape_markdown;
use crate::{Error, Result};

/// Longest time one PDF may take to convert.
const PDFTOTEXT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Extracts the text of a PDF as Markdown.
pub fn pdf_to_markdown(bytes: &[u8], location: &str) -> Result<String> {
    if !bytes.starts_with(b"%PDF-")
        && !bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
    {
        return Err(Error::PdfNoText {
            url: location.to_string(),
            reason: "the content is not a PDF (no %PDF- header)".into(),
        });
    }
    let mut input = tempfile::NamedTempFile::new()
        .map_err(|e| Error::io("cannot create a temporary file for pdftotext", e))?;
    std::io::Write::write_all(&mut input, bytes)
        .map_err(|e| Error::io("cannot write a temporary file for pdftotext", e))?;
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-eol", "unix", "-q"])
        .arg(input.path())
        .arg("-")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            Error::io(
                "cannot run pdftotext, which policydiff needs for PDF documents; install poppler \
                 (Debian/Ubuntu: `apt-get install poppler-utils`, macOS: `brew install poppler`)",
                e,
            )
        })?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > PDFTOTEXT_TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::PdfNoText {
                    url: location.to_string(),
                    reason: format!(
                        "pdftotext took longer than {}s",
                        PDFTOTEXT_TIME_LIMIT.as_secs()
                    ),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Error::io("cannot wait for pdftotext", e)),
        }
    };
    let output = reader
        .join()
        .map_err(|_| Error::internal("reading pdftotext's output", "the reader thread panicked"))?
        .map_err(|e| Error::io("cannot read pdftotext output", e))?;
    if !status.success() {
        return Err(Error::PdfNoText {
            url: location.to_string(),
            reason: format!("pdftotext could not read it ({status})"),
        });
    }
    let markdown = text_to_markdown(&String::from_utf8_lossy(&output));
    if markdown.is_empty() {
        return Err(Error::PdfNoText {
            url: location.to_string(),
            reason: "no text layer".into(),
        });
    }
    Ok(markdown)
}

/// Plain text (pages separated by form feeds) → Markdown paragraphs.
pub fn text_to_markdown(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    for page in text.split('\u{0C}') {
        let mut current: Vec<&str> = Vec::new();
        for line in page.lines().map(str::trim).chain(std::iter::once("")) {
            if line.is_empty() {
                if !current.is_empty() {
                    let joined = current.join(" ");
                    let collapsed = joined.split_whitespace().collect::<Vec<_>>().join(" ");
                    paragraphs.push(escape_markdown(&collapsed));
                    current.clear();
                }
            } else {
                current.push(line);
            }
        }
    }
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_from_lines_and_pages() {
        let text = "Privacy Policy\n\nWe collect your\ndata  for ads.\n\u{0C}- Second page\n";
        assert_eq!(
            text_to_markdown(text),
            "Privacy Policy\n\nWe collect your data for ads.\n\n\\- Second page"
        );
    }

    #[test]
    fn not_a_pdf_is_a_clear_failure() {
        let error = pdf_to_markdown(b"<html>nope</html>", "https://example.com/a.pdf").unwrap_err();
        assert_eq!(error.class(), crate::FailureClass::PdfNoText);
        assert!(error.to_string().contains("not a PDF"), "{error}");
    }
}
