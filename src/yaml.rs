//! The one place YAML is read.
//!
//! serde_yaml is archived upstream; everything YAML goes through [`from_str`] so that a
//! maintained successor can replace it here alone. Inputs are bounded: files larger than
//! [`MAX_YAML_BYTES`] are refused, and alias expansion ("billion laughs") is refused by the
//! parser's repetition limit, reported as such.

use serde::de::DeserializeOwned;

/// Largest YAML text read.
pub const MAX_YAML_BYTES: usize = 1024 * 1024;

/// A YAML problem, with its location when the parser knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What is wrong, including the key path when a value has the wrong type or is unknown.
    pub message: String,
    /// 1-based line and column.
    pub location: Option<(usize, usize)>,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.location {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses a YAML text into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(YamlError {
            message: format!(
                "the file is {} bytes, more than the {MAX_YAML_BYTES} allowed",
                text.len()
            ),
            location: None,
        });
    }
    serde_yaml::from_str(text).map_err(|error| {
        let mut message = error.to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        if message.contains("repetition limit") || message.contains("recursion limit") {
            message =
                format!("{message} (aliases or nesting expand too much; write the values out)");
        }
        YamlError {
            message,
            location: error.location().map(|l| (l.line(), l.column())),
        }
    })
}

/// Writes a value as YAML (for memo front matter).
pub fn to_string<T: serde::Serialize>(value: &T) -> Result<String, YamlError> {
    serde_yaml::to_string(value).map_err(|e| YamlError {
        message: e.to_string(),
        location: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_bombs_are_refused() {
        let mut text =
            String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            text.push_str(&format!("{name}: &{name} [*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous}]\n"));
        }
        let error = from_str::<serde_yaml::Value>(&text).unwrap_err();
        assert!(error.message.contains("aliases"), "{error}");
    }

    #[test]
    fn oversized_files_are_refused() {
        let text = format!("a: \"{}\"", "x".repeat(MAX_YAML_BYTES));
        assert!(
            from_str::<serde_yaml::Value>(&text)
                .unwrap_err()
                .message
                .contains("bytes")
        );
    }
}
