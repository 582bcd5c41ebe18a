//! Gzip bodies, decoded by the fetcher itself so that what the server compressed is kept.
//!
//! A gzip body (RFC 1952) is a DEFLATE stream (RFC 1951) between a short header and a
//! trailer. Git stores an object in a pack as a zlib stream (RFC 1950), which is the same
//! DEFLATE stream between another two-byte header and another trailer. So a page that the
//! server sent gzip-compressed can be recorded without compressing it again: the recorder
//! wraps the server's stream ([`Deflated`]) in zlib's header and trailer. Compressing the
//! sources was about a seventh of a first round's work, and servers compress HTML harder than
//! the recorder's fastest level does, so the repository comes out smaller too.
//!
//! [`gunzip`] inflates a gzip body, checks its trailer (CRC-32 and length), and gives the
//! stream as [`Deflated`] only when the body is exactly one gzip member, so that the stream's
//! end is known to the byte: anything after it would corrupt the object it went into.
//! Bodies of several members are inflated whole (their stream is not kept). The inflated body
//! never grows past `fetch.max_body`, whatever the compressed size (a gzip bomb stops there).
//!
//! ```
//! use std::io::Write;
//! use policydiff::fetch::encoding::gunzip;
//!
//! let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! encoder.write_all(b"<p>We collect your data.</p>").unwrap();
//! let (body, deflated) = gunzip(&encoder.finish().unwrap(), 1 << 20).unwrap();
//! assert_eq!(body, b"<p>We collect your data.</p>");
//! assert!(deflated.unwrap().stream_of(&body).is_some());
//! ```

/// A body's DEFLATE stream as the server compressed it, with what it inflates to (its length
/// and Adler-32): the recorder checks a source against them before storing the stream for it.
/// Only [`gunzip`] makes one, from a stream it inflated to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deflated {
    stream: Vec<u8>,
    inflated_length: usize,
    inflated_adler32: u32,
}

impl Deflated {
    /// The raw DEFLATE stream and the Adler-32 of `bytes`, when the stream inflates to
    /// `bytes` (same length and Adler-32 as the body it was inflated to); `None` otherwise.
    pub fn stream_of(&self, bytes: &[u8]) -> Option<(&[u8], u32)> {
        (bytes.len() == self.inflated_length
            && libdeflater::adler32(bytes) == self.inflated_adler32)
            .then_some((self.stream.as_slice(), self.inflated_adler32))
    }
}

/// Why a gzip body cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GzipError {
    /// Inflated, it would be longer than the limit given.
    TooLarge,
    /// It is not gzip, or is cut short or damaged: what is wrong.
    Invalid(String),
}

/// Inflates a gzip body of at most `max_body` bytes once inflated: the body, and the server's
/// DEFLATE stream when the body is one gzip member and nothing else.
pub fn gunzip(gzip: &[u8], max_body: u64) -> Result<(Vec<u8>, Option<Deflated>), GzipError> {
    // A body of one member ends with its inflated length: room for exactly that, at once
    // (within what a real page's compression could give, and the limit).
    let announced = gzip
        .last_chunk::<4>()
        .map_or(0, |length| u32::from_le_bytes(*length) as usize);
    let room = announced
        .min(gzip.len().saturating_mul(64))
        .min(usize::try_from(max_body).unwrap_or(usize::MAX));
    let mut body = Vec::with_capacity(room);
    let mut rest = gzip;
    let mut members = 0;
    let mut first_stream = None;
    // Members follow one another until the body ends; bytes after a member that do not start
    // another are ignored, as gzip itself does ("trailing garbage").
    while members == 0 || rest.starts_with(&[0x1f, 0x8b]) {
        let start = header_length(rest)?;
        let stream = &rest[start..];
        let before = body.len();
        let consumed = inflate_member(stream, &mut body, max_body)?;
        let trailer = stream
            .get(consumed..consumed + 8)
            .ok_or_else(|| GzipError::Invalid("the body ends inside its gzip trailer".into()))?;
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let length = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        let inflated = &body[before..];
        if crc32fast::hash(inflated) != crc || inflated.len() as u32 != length {
            return Err(GzipError::Invalid(
                "the gzip trailer does not match the inflated body (damaged in transfer)".into(),
            ));
        }
        if members == 0 {
            first_stream = Some(&stream[..consumed]);
        }
        members += 1;
        rest = &stream[consumed + 8..];
    }
    let deflated = match (members, first_stream) {
        (1, Some(stream)) if rest.is_empty() => Some(Deflated {
            stream: stream.to_vec(),
            inflated_length: body.len(),
            inflated_adler32: libdeflater::adler32(&body),
        }),
        _ => None,
    };
    Ok((body, deflated))
}

/// The length of the gzip member header at the start of `gzip`.
fn header_length(gzip: &[u8]) -> Result<usize, GzipError> {
    const TEXT_CRC: u8 = 0x02;
    const EXTRA: u8 = 0x04;
    const NAME: u8 = 0x08;
    const COMMENT: u8 = 0x10;
    let invalid = |what: &str| GzipError::Invalid(what.to_string());
    let cut = || invalid("the body ends inside its gzip header");
    let fixed = gzip.get(..10).ok_or_else(cut)?;
    if fixed[..2] != [0x1f, 0x8b] {
        return Err(invalid("the body is announced as gzip but is not"));
    }
    if fixed[2] != 8 {
        return Err(invalid(
            "the gzip body uses a compression method other than DEFLATE",
        ));
    }
    let flags = fixed[3];
    if flags & 0xe0 != 0 {
        return Err(invalid("the gzip header sets reserved flags"));
    }
    let mut at = 10;
    if flags & EXTRA != 0 {
        let length = gzip.get(at..at + 2).ok_or_else(cut)?;
        at += 2 + usize::from(u16::from_le_bytes([length[0], length[1]]));
    }
    for flag in [NAME, COMMENT] {
        if flags & flag != 0 {
            let end = gzip
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == 0))
                .ok_or_else(cut)?;
            at += end + 1;
        }
    }
    if flags & TEXT_CRC != 0 {
        at += 2;
    }
    if at > gzip.len() {
        return Err(cut());
    }
    Ok(at)
}

/// Inflates the DEFLATE stream at the start of `stream` onto `body` (never past `max_body`
/// bytes in all); gives how many bytes of `stream` it took, to the byte.
fn inflate_member(stream: &[u8], body: &mut Vec<u8>, max_body: u64) -> Result<usize, GzipError> {
    let max_body = usize::try_from(max_body).unwrap_or(usize::MAX);
    let mut inflater = flate2::Decompress::new(false);
    loop {
        if body.len() == body.capacity() && body.len() < max_body {
            let more = body.len().max(64 * 1024).min(max_body - body.len());
            body.reserve_exact(more);
        }
        let taken = inflater.total_in() as usize;
        let written = inflater.total_out();
        let status = inflater
            .decompress_vec(&stream[taken..], body, flate2::FlushDecompress::Finish)
            .map_err(|e| GzipError::Invalid(format!("the gzip body is damaged ({e})")))?;
        if status == flate2::Status::StreamEnd {
            return Ok(inflater.total_in() as usize);
        }
        let full = body.len() == body.capacity();
        if body.len() > max_body || (full && body.len() >= max_body) {
            return Err(GzipError::TooLarge);
        }
        // No progress with room left: the stream stops before its end.
        if !full && inflater.total_out() == written && inflater.total_in() as usize == taken {
            return Err(GzipError::Invalid(
                "the gzip body is cut short (its DEFLATE stream does not end)".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn page() -> Vec<u8> {
        (0..2000)
            .map(|i| {
                format!(
                    "<p>Section {i}: we keep your data for {} days.</p>\n",
                    i % 97
                )
            })
            .collect::<String>()
            .into_bytes()
    }

    /// The stream a [`Deflated`] keeps, inflated on its own, to the end.
    fn inflate_raw(stream: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut decoder = flate2::read::DeflateDecoder::new(stream);
        std::io::Read::read_to_end(&mut decoder, &mut out).unwrap();
        out
    }

    #[test]
    fn one_member_gives_the_body_and_the_servers_stream() {
        let page = page();
        let compressed = gzip(&page);
        let (body, deflated) = gunzip(&compressed, 1 << 20).unwrap();
        assert_eq!(body, page);
        // Inflated into room for exactly the length its trailer announced, at once.
        assert_eq!(body.capacity(), page.len());
        let deflated = deflated.unwrap();
        let (stream, adler) = deflated.stream_of(&body).unwrap();
        assert_eq!(adler, libdeflater::adler32(&page));
        // The stream is the server's bytes, between the 10-byte header and 8-byte trailer.
        assert_eq!(stream, &compressed[10..compressed.len() - 8]);
        assert_eq!(inflate_raw(stream), page);
        // A different body (one byte changed) is not what the stream inflates to.
        let mut other = page.clone();
        other[100] ^= 1;
        assert!(deflated.stream_of(&other).is_none());
    }

    #[test]
    fn optional_header_fields_are_skipped() {
        let page = page();
        let mut encoder = flate2::GzBuilder::new()
            .filename("privacy.html")
            .comment("from the CDN")
            .extra(vec![1, 2, 3, 4])
            .write(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&page).unwrap();
        let compressed = encoder.finish().unwrap();
        let (body, deflated) = gunzip(&compressed, 1 << 20).unwrap();
        assert_eq!(body, page);
        assert_eq!(
            inflate_raw(deflated.unwrap().stream_of(&body).unwrap().0),
            page
        );
    }

    #[test]
    fn several_members_are_inflated_whole_without_a_stream() {
        let mut compressed = gzip(b"<p>first part</p>");
        compressed.extend(gzip(b"<p>second part</p>"));
        let (body, deflated) = gunzip(&compressed, 1 << 20).unwrap();
        assert_eq!(body, b"<p>first part</p><p>second part</p>");
        assert_eq!(deflated, None);
    }

    #[test]
    fn bytes_after_the_member_are_ignored_and_keep_the_stream_out() {
        let mut compressed = gzip(&page());
        compressed.extend_from_slice(b"\0\0\0\0garbage");
        let (body, deflated) = gunzip(&compressed, 1 << 20).unwrap();
        assert_eq!(body, page());
        assert_eq!(deflated, None);
    }

    #[test]
    fn damaged_and_cut_bodies_are_refused() {
        let compressed = gzip(&page());
        let cut = &compressed[..compressed.len() / 2];
        assert!(matches!(gunzip(cut, 1 << 20), Err(GzipError::Invalid(_))));
        let no_trailer = &compressed[..compressed.len() - 3];
        assert!(matches!(
            gunzip(no_trailer, 1 << 20),
            Err(GzipError::Invalid(_))
        ));
        let mut bad_crc = compressed.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 0xff;
        let Err(GzipError::Invalid(why)) = gunzip(&bad_crc, 1 << 20) else {
            panic!("a wrong CRC-32 must be refused");
        };
        assert!(why.contains("trailer"), "{why}");
        assert!(matches!(
            gunzip(b"<html>not gzip</html>", 1 << 20),
            Err(GzipError::Invalid(_))
        ));
        assert!(matches!(
            gunzip(&[0x1f, 0x8b, 8], 1 << 20),
            Err(GzipError::Invalid(_))
        ));
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        // 64 MB of zeros compress to about 64 kB.
        let compressed = gzip(&vec![0u8; 64 << 20]);
        assert!(compressed.len() < 200_000);
        assert_eq!(gunzip(&compressed, 1 << 20), Err(GzipError::TooLarge));
        // Exactly at the limit is allowed.
        let exact = gzip(&vec![b'a'; 1 << 20]);
        assert_eq!(gunzip(&exact, 1 << 20).unwrap().0.len(), 1 << 20);
    }
}
