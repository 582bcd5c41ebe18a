//! Git pack files, written directly: the on-disk form of a batch of new objects.
//!
//! A pack is one file holding many objects, each zlib-compressed behind a short header, and an
//! index beside it mapping object ids to their places (git's pack format, version 2, without
//! deltas). [`PackEntry::new`] compresses one object — on whichever thread has its bytes, so
//! that the extraction threads compress the blobs they produce; [`PackEntry::served_blob`] takes
//! a page's stream as its server compressed it, when it did — and a [`PackWriter`] appends
//! entries to a temporary file as they come, then makes it `objects/pack/pack-<checksum>.pack`
//! and writes its `.idx` ([`write_pack`] does both for entries at hand). The index is written
//! last, by a rename: git and libgit2 see a pack only through its index, so a pack interrupted
//! at any point is invisible (a leftover temporary file, which `git gc` removes, and so does
//! the next round).

use std::io::Write;
use std::path::Path;

use git2::{ObjectType, Oid};
use sha1::{Digest, Sha1};

/// One object as a pack stores it: its header and compressed content, with its id.
#[derive(Debug, Clone)]
pub struct PackEntry {
    /// The object's id.
    pub id: Oid,
    /// The entry's bytes: type-and-size header, then the zlib stream of the content.
    bytes: Vec<u8>,
}

impl PackEntry {
    /// Compresses an object of `kind` whose content is `data` and whose id is `id`.
    pub fn new(kind: ObjectType, id: Oid, data: &[u8]) -> PackEntry {
        let mut bytes = Vec::with_capacity(data.len() / 3 + 32);
        push_header(&mut bytes, kind, data.len());
        deflate_into(&mut bytes, data);
        PackEntry { id, bytes }
    }

    /// The blob entry of `data`, with its id computed here; `Err` when `data` holds a SHA-1
    /// collision attack ([`blob_id`]).
    pub fn blob(data: &[u8]) -> Result<PackEntry, CollisionAttack> {
        PackEntry::served_blob(data, None)
    }

    /// [`blob`](Self::blob), storing the DEFLATE stream `data` was served in when there is one
    /// and it inflates to `data` (it is checked): nothing is compressed then. A zlib stream is
    /// that DEFLATE stream behind a two-byte header (DEFLATE, 32 kB window, no dictionary) and
    /// followed by the Adler-32 of what it inflates to.
    pub fn served_blob(
        data: &[u8],
        served: Option<&crate::fetch::encoding::Deflated>,
    ) -> Result<PackEntry, CollisionAttack> {
        let id = blob_id(data)?;
        let Some((stream, adler32)) = served.and_then(|served| served.stream_of(data)) else {
            return Ok(PackEntry::new(ObjectType::Blob, id, data));
        };
        let mut bytes = Vec::with_capacity(stream.len() + 32);
        push_header(&mut bytes, ObjectType::Blob, data.len());
        bytes.extend_from_slice(&[0x78, 0x01]);
        bytes.extend_from_slice(stream);
        bytes.extend_from_slice(&adler32.to_be_bytes());
        Ok(PackEntry { id, bytes })
    }
}

/// Appends a pack entry's header: the object's type and size, the size in a little-endian
/// varint (4 bits in the first byte beside the type, then 7 bits per byte, the high bit saying
/// another byte follows).
fn push_header(bytes: &mut Vec<u8>, kind: ObjectType, size: usize) {
    let type_bits: u8 = match kind {
        ObjectType::Commit => 1,
        ObjectType::Tree => 2,
        ObjectType::Tag => 4,
        _ => 3,
    };
    let mut size = size;
    let mut byte = (type_bits << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        bytes.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    bytes.push(byte);
}

/// Content that holds the blocks of a SHA-1 collision attack: a second, different content
/// could claim the same object id. Its id is the one the content would have had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollisionAttack(pub Oid);

/// The git id of a blob holding `data`: SHA-1 of `blob <length>\0` and the data, computed
/// with collision detection, as git does, so that content crafted to share an id with other
/// content is refused instead of stored (where it would pass for that other content, and make
/// `git fsck` fail on the repository). The `sha1dc` crate uses the CPU's SHA instructions and
/// checks each block for the known attacks' patterns, several times faster than libgit2's
/// portable collision-detecting SHA-1.
pub fn blob_id(data: &[u8]) -> Result<Oid, CollisionAttack> {
    let header = format!("blob {}\0", data.len());
    checked_sha1(&[header.as_bytes(), data])
}

/// SHA-1 of `parts` one after the other, as an object id, or the attack it holds.
fn checked_sha1(parts: &[&[u8]]) -> Result<Oid, CollisionAttack> {
    let mut hasher = sha1dc::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    let id = |digest: &[u8]| Oid::from_bytes(digest).unwrap_or(Oid::ZERO_SHA1);
    match hasher.finalize() {
        Ok(digest) => Ok(id(digest.as_ref())),
        Err(collision) => Err(CollisionAttack(id(collision.digest().as_ref()))),
    }
}

/// The compression level, libdeflate's 1 (its fastest that compresses; 0 stores): policies'
/// texts and pages compress about as well as at higher levels of other libraries, in less
/// time. `git gc` repacks with deltas later, which is where the space is won.
const LEVEL: i32 = 1;

/// Compressors not in use: a compressor's state is a few hundred kilobytes, which allocated
/// for every object left the allocator holding much memory. Shared rather than one per thread:
/// a round's extractions run on whichever of the blocking pool's threads is free, and a
/// compressor per thread that ever compressed held megabytes.
static COMPRESSORS: std::sync::Mutex<Vec<libdeflater::Compressor>> =
    std::sync::Mutex::new(Vec::new());

/// Appends the zlib stream of `data` to `out`.
fn deflate_into(out: &mut Vec<u8>, data: &[u8]) {
    let spare = COMPRESSORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .pop();
    let mut compressor = spare.unwrap_or_else(|| {
        let level = libdeflater::CompressionLvl::new(LEVEL).unwrap_or_default();
        libdeflater::Compressor::new(level)
    });
    let start = out.len();
    out.resize(start + compressor.zlib_compress_bound(data.len()), 0);
    // libdeflate guarantees that a buffer of the bound's size is always room enough.
    let written = compressor
        .zlib_compress(data, &mut out[start..])
        .unwrap_or_default();
    out.truncate(start + written);
    COMPRESSORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(compressor);
}

/// A pack a [`PackWriter`] completed: its file, and where each of its objects lies in it.
#[derive(Debug, Default)]
pub struct WrittenPack {
    /// The `.pack` file.
    pub path: std::path::PathBuf,
    /// Each object's entry: its offset in the pack and its length (header and zlib stream).
    pub entries: std::collections::HashMap<Oid, (u64, usize)>,
}

/// The prefix of the files a [`PackWriter`] writes into before they become a pack: git's own
/// prefix for packs being written (`git gc` removes them once old), then ours, so that a round
/// can remove those an earlier round left when it was killed.
pub const TEMPORARY_PREFIX: &str = "tmp_pack_policydiff_";

/// A pack being written, entry by entry, in a temporary file beside the packs: entries reach
/// the disk as they come instead of waiting in memory for the batch's end (a batch of new
/// documents holds megabytes of compressed pages). [`finish`](Self::finish) completes it
/// (object count, checksum, index) and gives it its name; dropped unfinished, the temporary
/// file is removed.
pub struct PackWriter {
    pack_dir: std::path::PathBuf,
    file: tempfile::NamedTempFile,
    /// Where the next entry goes.
    offset: u64,
    /// Each entry written: id, offset, length, CRC-32 (what the index records).
    written: Vec<(Oid, u64, usize, u32)>,
    seen: std::collections::HashSet<Oid>,
}

impl std::fmt::Debug for PackWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackWriter")
            .field("file", &self.file.path())
            .field("entries", &self.written.len())
            .finish()
    }
}

/// The pack header for `count` objects (version 2).
fn pack_header(count: u32) -> [u8; 12] {
    let mut header = [0u8; 12];
    header[..4].copy_from_slice(b"PACK");
    header[4..8].copy_from_slice(&2u32.to_be_bytes());
    header[8..].copy_from_slice(&count.to_be_bytes());
    header
}

impl PackWriter {
    /// Starts a pack in `pack_dir` (made if missing).
    pub fn create(pack_dir: &Path) -> std::io::Result<PackWriter> {
        std::fs::create_dir_all(pack_dir)?;
        let mut file = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIX)
            .tempfile_in(pack_dir)?;
        // The count is written once known, at the end.
        file.write_all(&pack_header(0))?;
        Ok(PackWriter {
            pack_dir: pack_dir.to_path_buf(),
            file,
            offset: 12,
            written: Vec::new(),
            seen: std::collections::HashSet::new(),
        })
    }

    /// Appends an entry (an object already in the pack is not written again).
    pub fn add(&mut self, entry: &PackEntry) -> std::io::Result<()> {
        if self.offset == u64::MAX {
            return Err(std::io::Error::other("an earlier write to the pack failed"));
        }
        if !self.seen.insert(entry.id) {
            return Ok(());
        }
        if let Err(error) = self.file.write_all(&entry.bytes) {
            // The file's end is unknown now: nothing more is appended, and finishing fails.
            self.offset = u64::MAX;
            return Err(error);
        }
        let crc = crc32fast::hash(&entry.bytes);
        self.written
            .push((entry.id, self.offset, entry.bytes.len(), crc));
        self.offset += entry.bytes.len() as u64;
        Ok(())
    }

    /// Completes the pack: its object count, its checksum (the file read back, from the page
    /// cache), then its index, written last, which makes it visible.
    pub fn finish(mut self) -> std::io::Result<WrittenPack> {
        use std::io::{Read, Seek, SeekFrom};
        if self.offset == u64::MAX {
            return Err(std::io::Error::other("an earlier write to the pack failed"));
        }
        let count = u32::try_from(self.written.len())
            .map_err(|_| std::io::Error::other("too many objects for one pack"))?;
        let file = self.file.as_file_mut();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&pack_header(count))?;
        file.seek(SeekFrom::Start(0))?;
        let mut checksum = Sha1::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut left = self.offset;
        while left > 0 {
            let read = file.read(&mut buffer[..(left.min(1 << 20) as usize)])?;
            if read == 0 {
                return Err(std::io::Error::other("the pack is shorter than written"));
            }
            checksum.update(&buffer[..read]);
            left -= read as u64;
        }
        let pack_checksum: [u8; 20] = checksum.finalize_reset().into();
        file.seek(SeekFrom::Start(self.offset))?;
        file.write_all(&pack_checksum)?;
        let name = format!("pack-{}", hex::encode(pack_checksum));

        // The index (version 2): fan-out table, sorted ids, CRC-32s, offsets, checksums.
        let written = &mut self.written;
        written.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut index = Vec::with_capacity(8 + 1024 + written.len() * 28 + 40);
        index.extend_from_slice(b"\xfftOc");
        index.extend_from_slice(&2u32.to_be_bytes());
        let mut fanout = [0u32; 256];
        for (id, ..) in written.iter() {
            fanout[id.as_bytes()[0] as usize] += 1;
        }
        let mut total = 0u32;
        for count in fanout {
            total += count;
            index.extend_from_slice(&total.to_be_bytes());
        }
        for (id, ..) in written.iter() {
            index.extend_from_slice(id.as_bytes());
        }
        for (.., crc) in written.iter() {
            index.extend_from_slice(&crc.to_be_bytes());
        }
        // Offsets past 2 GiB go to a table of 8-byte offsets, named by index with the high bit set.
        let mut large = Vec::new();
        for &(_, offset, ..) in written.iter() {
            if offset < 0x8000_0000 {
                index.extend_from_slice(&(offset as u32).to_be_bytes());
            } else {
                index.extend_from_slice(&(0x8000_0000u32 | (large.len() as u32 / 8)).to_be_bytes());
                large.extend_from_slice(&offset.to_be_bytes());
            }
        }
        index.extend_from_slice(&large);
        index.extend_from_slice(&pack_checksum);
        checksum.update(&index);
        let index_checksum: [u8; 20] = checksum.finalize().into();
        index.extend_from_slice(&index_checksum);

        // The pack under its name first, then the index that makes it visible.
        read_only(self.file.as_file())?;
        let pack_path = self.pack_dir.join(format!("{name}.pack"));
        self.file.persist(&pack_path).map_err(|e| e.error)?;
        let mut idx = tempfile::Builder::new()
            .prefix("tmp_idx_")
            .tempfile_in(&self.pack_dir)?;
        idx.write_all(&index)?;
        read_only(idx.as_file())?;
        idx.persist(self.pack_dir.join(format!("{name}.idx")))
            .map_err(|e| e.error)?;
        Ok(WrittenPack {
            path: pack_path,
            entries: self
                .written
                .iter()
                .map(|&(id, offset, length, _)| (id, (offset, length)))
                .collect(),
        })
    }
}

/// Writes `entries` (duplicates are written once) as one pack and its index in `pack_dir`.
pub fn write_pack(pack_dir: &Path, entries: &[PackEntry]) -> std::io::Result<WrittenPack> {
    let mut writer = PackWriter::create(pack_dir)?;
    for entry in entries {
        writer.add(entry)?;
    }
    writer.finish()
}

/// Reads back the content of the blob whose entry lies at `offset` in `pack` and is `length`
/// bytes long (as [`WrittenPack`] tells), inflated by libdeflate — several times as fast as
/// libgit2's zlib, which the working tree's writer paid for every file of a first round.
/// zlib's own checksum (Adler-32) and the size in the entry's header vouch for the content.
pub fn read_blob_at(
    pack: &std::fs::File,
    offset: u64,
    length: usize,
    inflate: &mut libdeflater::Decompressor,
) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let corrupt = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string());
    let mut entry = vec![0; length];
    pack.read_exact_at(&mut entry, offset)?;
    // The header: type in bits 4–6 of the first byte, the size in a little-endian varint.
    let first = *entry
        .first()
        .ok_or_else(|| corrupt("an empty pack entry"))?;
    if (first >> 4) & 0x07 != 3 {
        return Err(corrupt("the pack entry is not a blob"));
    }
    let mut size = u64::from(first & 0x0f);
    let mut shift = 4;
    let mut at = 1;
    let mut byte = first;
    while byte & 0x80 != 0 {
        byte = *entry
            .get(at)
            .ok_or_else(|| corrupt("a truncated pack entry header"))?;
        if shift > 57 {
            return Err(corrupt("a pack entry's size is too large"));
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        at += 1;
    }
    // Deflate shrinks data at most about a thousandfold: a larger claim is no entry of ours.
    let size = usize::try_from(size)
        .ok()
        .filter(|&size| size <= length.saturating_mul(1100))
        .ok_or_else(|| corrupt("a pack entry's size is too large"))?;
    let mut content = vec![0; size];
    let inflated = inflate
        .zlib_decompress(&entry[at..], &mut content)
        .map_err(|e| corrupt(&format!("the pack entry does not inflate: {e}")))?;
    if inflated != size {
        return Err(corrupt(
            "the pack entry inflates to another size than its header's",
        ));
    }
    Ok(content)
}

/// Packs are never modified: read-only, as git makes them.
fn read_only(file: &std::fs::File) -> std::io::Result<()> {
    let mut permissions = file.metadata()?.permissions();
    permissions.set_readonly(true);
    file.set_permissions(permissions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits_for_every_length() {
        // Lengths around SHA-1's 64-byte blocks and its 8-byte length field, and a page's size.
        let bytes: Vec<u8> = (0..100_003u32).map(|i| (i * 7 % 253) as u8).collect();
        for length in (0..=200).chain([1_000, 4_096, 65_536, 100_003]) {
            let data = &bytes[..length];
            let expected = Oid::hash_object(ObjectType::Blob, data).unwrap();
            assert_eq!(blob_id(data), Ok(expected), "{length} bytes");
        }
    }

    #[test]
    fn content_holding_a_collision_attack_is_refused() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/collision");
        let first = std::fs::read(fixtures.join("sha-mbles-1.bin")).unwrap();
        let second = std::fs::read(fixtures.join("sha-mbles-2.bin")).unwrap();
        assert_ne!(first, second);
        // Both halves of the published collision share one SHA-1, and each is refused.
        let shared = Oid::from_str("8ac60ba76f1999a1ab70223f225aefdc78d4ddc0").unwrap();
        assert_eq!(checked_sha1(&[&first]), Err(CollisionAttack(shared)));
        assert_eq!(checked_sha1(&[&second]), Err(CollisionAttack(shared)));
        // Fed in pieces, as a header and content are, it is refused all the same.
        assert_eq!(
            checked_sha1(&[&first[..100], &first[100..]]),
            Err(CollisionAttack(shared))
        );
        // Changing one byte of the attack's blocks leaves ordinary content, hashed as usual.
        let mut altered = first.clone();
        altered[400] ^= 1;
        let plain = checked_sha1(&[&altered]).unwrap();
        assert_ne!(plain, shared);
    }

    #[test]
    fn a_written_pack_is_read_by_libgit2_and_verified_by_git() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let big: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let contents: Vec<&[u8]> = vec![b"", b"Hello", b"Hello", &big];
        let entries: Vec<PackEntry> = contents
            .iter()
            .map(|data| PackEntry::blob(data).unwrap())
            .collect();
        let pack_dir = dir.path().join(".git/objects/pack");
        let written = write_pack(&pack_dir, &entries).unwrap();
        let pack = std::fs::File::open(&written.path).unwrap();
        let mut inflate = libdeflater::Decompressor::new();
        for (data, entry) in contents.iter().zip(&entries) {
            let blob = repo.find_blob(entry.id).unwrap();
            assert_eq!(blob.content(), *data);
            // Read back from where the pack says it wrote the entry, as the working tree does.
            let (offset, length) = written.entries[&entry.id];
            let read = read_blob_at(&pack, offset, length, &mut inflate).unwrap();
            assert_eq!(read, *data);
        }
        // An entry read from the wrong place, or cut short, is refused, never taken for a blob.
        let (offset, length) = written.entries[&entries[3].id];
        // Compressed: the repetitive blob takes a small part of its size.
        assert!(length < big.len() / 10, "{length} bytes for {}", big.len());
        assert!(read_blob_at(&pack, offset + 1, length - 1, &mut inflate).is_err());
        assert!(read_blob_at(&pack, offset, length - 1, &mut inflate).is_err());
        let idx = std::fs::read_dir(&pack_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let verify = std::process::Command::new("git")
            .args(["verify-pack", "-v"])
            .arg(&idx)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
        // Three distinct objects, the duplicate written once.
        let listed = String::from_utf8_lossy(&verify.stdout);
        assert_eq!(listed.lines().filter(|l| l.contains(" blob ")).count(), 3);
        let leftovers = std::fs::read_dir(&pack_dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("tmp_"))
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_served_stream_is_stored_as_it_came_and_read_back_by_libgit2_and_git() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let page: Vec<u8> = (0..3000)
            .flat_map(|i| format!("<p>Clause {i}: data kept {} days.</p>", i % 89).into_bytes())
            .collect();
        let mut server = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        server.write_all(&page).unwrap();
        let gzip = server.finish().unwrap();
        let (body, served) = crate::fetch::encoding::gunzip(&gzip, 1 << 24).unwrap();
        let served = served.unwrap();
        let entry = PackEntry::served_blob(&body, Some(&served)).unwrap();
        // Same id as compressing it ourselves; the server's stream is in the entry, verbatim.
        let compressed_here = PackEntry::blob(&body).unwrap();
        assert_eq!(entry.id, compressed_here.id);
        let stream = &gzip[10..gzip.len() - 8];
        assert!(entry.bytes.windows(stream.len()).any(|w| w == stream));
        // A stream is never stored for bytes it does not inflate to.
        let mut other = body.clone();
        other[5] = b'X';
        let fallback = PackEntry::served_blob(&other, Some(&served)).unwrap();
        assert!(!fallback.bytes.windows(stream.len()).any(|w| w == stream));

        let pack_dir = dir.path().join(".git/objects/pack");
        let written = write_pack(&pack_dir, &[entry.clone(), fallback.clone()]).unwrap();
        assert_eq!(repo.find_blob(entry.id).unwrap().content(), &page[..]);
        assert_eq!(repo.find_blob(fallback.id).unwrap().content(), &other[..]);
        let pack = std::fs::File::open(&written.path).unwrap();
        let (offset, length) = written.entries[&entry.id];
        let mut inflate = libdeflater::Decompressor::new();
        assert_eq!(
            read_blob_at(&pack, offset, length, &mut inflate).unwrap(),
            page
        );
        for args in [vec!["fsck", "--full", "--strict"], vec!["cat-file", "-p"]] {
            let mut command = std::process::Command::new("git");
            command.arg("-C").arg(dir.path()).args(&args);
            if args[0] == "cat-file" {
                command.arg(entry.id.to_string());
            }
            let output = command.output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            if args[0] == "cat-file" {
                assert_eq!(output.stdout, page);
            }
        }
    }
}
