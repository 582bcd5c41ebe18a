//! Bytes → text: which character set a page is in.
//!
//! The order is the browser's: a byte-order mark wins, then the `charset` of the
//! HTTP `Content-Type`, then a `<meta charset>` (or `http-equiv`) near the start
//! of the page, then detection from the bytes themselves (chardetng, for
//! unlabelled windows-1252 or Shift_JIS pages). Output is always UTF-8;
//! undecodable bytes become U+FFFD rather than failing the document.
//!
//! ```
//! use policydiff::extract::charset::decode;
//!
//! let (text, encoding) = decode(b"caf\xe9", Some("text/html; charset=ISO-8859-1"));
//! assert_eq!(text, "café");
//! assert_eq!(encoding, "windows-1252");
//! ```

use encoding_rs::Encoding;

/// How far into the page a `<meta charset>` is looked for.
const META_PRESCAN_BYTES: usize = 4096;

/// The `charset` parameter of a `Content-Type` header value.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

fn charset_from_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_PRESCAN_BYTES)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(offset) = find(&lower[from..], b"<meta") {
        let start = from + offset;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |p| start + p);
        let tag = &lower[start..end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + "charset".len()..];
            let rest = trim_start(rest);
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = trim_start(rest);
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let label: Vec<u8> = rest
                    .iter()
                    .copied()
                    .take_while(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')
                    })
                    .collect();
                if let Some(encoding) = Encoding::for_label(&label) {
                    // A page cannot declare UTF-16 in its own ASCII text; browsers read UTF-8 then.
                    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                        return Some(encoding_rs::UTF_8);
                    }
                    if encoding == encoding_rs::X_USER_DEFINED {
                        return Some(encoding_rs::WINDOWS_1252);
                    }
                    return Some(encoding);
                }
            }
        }
        from = end.max(start + 1);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

/// Decodes a page to UTF-8; returns the text and the name of the encoding used.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let encoding = Encoding::for_bom(bytes)
        .map(|(encoding, _)| encoding)
        .or_else(|| content_type.and_then(charset_from_content_type))
        .or_else(|| charset_from_meta(bytes))
        .unwrap_or_else(|| {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            detector.guess(None, chardetng::Utf8Detection::Allow)
        });
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_wins_over_header() {
        let (text, name) = decode(
            b"\xEF\xBB\xBFcaf\xC3\xA9",
            Some("text/html; charset=windows-1252"),
        );
        assert_eq!((text.as_str(), name), ("café", "UTF-8"));
    }

    #[test]
    fn meta_charset_is_read() {
        let page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"></head><body>na\xEFve</body>";
        let (text, name) = decode(page, Some("text/html"));
        assert!(text.contains("naïve"), "{text}");
        assert_eq!(name, "windows-1252");
        let (_, name) = decode(b"<meta charset='shift_jis'>", None);
        assert_eq!(name, "Shift_JIS");
    }

    #[test]
    fn detection_without_labels() {
        let page =
            "<p>これは日本語のプライバシーポリシーです。個人情報の取り扱いについて説明します。</p>";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(page);
        let (text, name) = decode(&bytes, None);
        assert_eq!(name, "Shift_JIS");
        assert_eq!(text, page);
    }
}
