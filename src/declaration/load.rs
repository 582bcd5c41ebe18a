//! Reading a service's files (`<id>.json`, `<id>.history.json`, `<id>.filters.js`) from disk,
//! bounded in size, into a [`Loaded`] service: its declaration and every problem found.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

/// Largest declaration file read, so a hostile file cannot exhaust memory.
pub const MAX_DECLARATION_BYTES: u64 = 4 * 1024 * 1024;

/// Checks that a service id is safe as a folder name.
pub fn check_service_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("is empty".into());
    }
    if id == "." || id == ".." || id.starts_with('.') {
        return Err("must not start with a dot".into());
    }
    if let Some(c) = id.chars().find(|c| {
        matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control()
    }) {
        return Err(format!(
            "contains {c:?}, which is not safe in a folder name"
        ));
    }
    if id.len() > 200 {
        return Err("is longer than 200 bytes".into());
    }
    Ok(())
}

/// A service's files, read and checked.
#[derive(Debug)]
pub struct Loaded {
    /// The service id (file stem).
    pub service_id: String,
    /// The declaration, when the file could be parsed at all.
    pub declaration: Option<Declaration>,
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

impl Loaded {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// The problems concerning one terms type (or the whole file).
    pub fn problems_for(&self, terms_type: &str) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.terms_type.as_deref().is_none_or(|t| t == terms_type))
            .collect()
    }
}

/// Reads `<dir>/<id>.json` and its companions `<id>.history.json` and `<id>.filters.js`.
pub fn load_service(json_path: &Path) -> Loaded {
    let file_name = json_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let service_id = file_name
        .strip_suffix(".json")
        .unwrap_or(&file_name)
        .to_string();
    let mut loaded = Loaded {
        service_id: service_id.clone(),
        declaration: None,
        problems: Vec::new(),
    };
    let file_problem = |file: &Path, message: String| Problem {
        file: file.to_path_buf(),
        terms_type: None,
        field: String::new(),
        message,
        severity: Severity::Error,
    };
    let dir = json_path.parent().unwrap_or(Path::new("."));
    let filters_path = dir.join(format!("{service_id}.filters.js"));
    let script_filters = std::fs::read_to_string(&filters_path)
        .map(|source| exported_function_names(&source))
        .unwrap_or_default();

    let text = match read_bounded(json_path) {
        Ok(text) => text,
        Err(message) => {
            loaded.problems.push(file_problem(json_path, message));
            return loaded;
        }
    };
    let (declaration, mut problems) =
        parse_declaration(&service_id, &text, json_path, &script_filters);
    loaded.problems.append(&mut problems);
    let Some(mut declaration) = declaration else {
        return loaded;
    };

    let history_path = dir.join(format!("{service_id}.history.json"));
    if history_path.exists() {
        match read_bounded(&history_path) {
            Ok(text) => {
                let (history, mut problems) = parse_history(&text, &history_path, &script_filters);
                declaration.history = history;
                loaded.problems.append(&mut problems);
            }
            Err(message) => loaded.problems.push(file_problem(&history_path, message)),
        }
    }
    loaded.declaration = Some(declaration);
    loaded
}

/// Loads every service of a folder (files `*.json` that are not `*.history.json`), sorted by id.
pub fn load_directory(dir: &Path) -> crate::Result<Vec<Loaded>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        crate::Error::io(
            format!("cannot read declarations folder {}", dir.display()),
            e,
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".history.json")
        })
        .collect();
    paths.sort();
    Ok(paths.iter().map(|path| load_service(path)).collect())
}

pub(crate) fn read_bounded(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if metadata.len() > MAX_DECLARATION_BYTES {
        return Err(format!(
            "the file is {} bytes, more than the {} bytes a declaration may have",
            metadata.len(),
            MAX_DECLARATION_BYTES
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not valid UTF-8 (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Names exported by a `.filters.js` file (`export function name`, `export const name`, `export { a, b }`).
pub fn exported_function_names(source: &str) -> BTreeSet<String> {
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<[regex::Regex; 2]> = OnceLock::new();
    let [declared, listed] = PATTERNS.get_or_init(|| {
        [
            regex::Regex::new(
                r"export\s+(?:async\s+)?(?:function\s*\*?|const|let|var)\s*([A-Za-z_$][\w$]*)",
            )
            .expect("valid regex"),
            regex::Regex::new(r"export\s*\{([^}]*)\}").expect("valid regex"),
        ]
    });
    let mut names: BTreeSet<String> = declared
        .captures_iter(source)
        .map(|c| c[1].to_string())
        .collect();
    for list in listed.captures_iter(source) {
        for item in list[1].split(',') {
            let exported = item.split(" as ").last().unwrap_or(item).trim();
            if !exported.is_empty() {
                names.insert(exported.to_string());
            }
        }
    }
    names
}

pub(crate) fn json_syntax_problem(file: &Path, error: &serde_json::Error) -> Problem {
    Problem {
        file: file.to_path_buf(),
        terms_type: None,
        field: String::new(),
        message: format!(
            "invalid JSON at line {}, column {}: {}",
            error.line(),
            error.column(),
            strip_position(&error.to_string())
        ),
        severity: Severity::Error,
    }
}

pub(crate) fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map(|at| &message[..at])
        .unwrap_or(message)
}
