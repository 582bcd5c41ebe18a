//! Git pack files, written directly: the on-disk form of a batch of new objects.
//!
//! A pack is one file holding many objects, each zlib-compressed behind a short header, and an
//! index beside it mapping object ids to their places (git's pack format, version 2, without
//! deltas). [`PackEntry::new`] compresses one object — on whichever thread has its bytes, so
//! that the extraction threads compress the blobs they produce — and [`write_pack`] writes a
//! batch of entries as `objects/pack/pack-<checksum>.pack` and its `.idx`. The index is written
//! last, by a rename: git and libgit2 see a pack only through its index, so a pack interrupted
//! at any point is invisible (a leftover temporary file, which `git gc` removes).

use std::io::Write;
use std::path::Path;

use git2::{ObjectType, Oid};
use sha1::{Digest, Sha1};

/// One object as a pack stores it: its header and compressed content, with its id and the
/// CRC-32 the index records for it.
#[derive(Debug, Clone)]
pub struct PackEntry {
    /// The object's id.
    pub id: Oid,
    /// The entry's bytes: type-and-size header, then the zlib stream of the content.
    bytes: Vec<u8>,
    /// Where it goes in the pack: trees and commits first, then the blobs read often (version
    /// texts), then the rest (sources), so that reading the small, often-read objects touches
    /// few pages of the pack (readers map packs into memory).
    place: u8,
}

impl PackEntry {
    /// Compresses an object of `kind` whose content is `data` and whose id is `id`.
    pub fn new(kind: ObjectType, id: Oid, data: &[u8]) -> PackEntry {
        let type_bits: u8 = match kind {
            ObjectType::Commit => 1,
            ObjectType::Tree => 2,
            ObjectType::Tag => 4,
            _ => 3,
        };
        let mut bytes = Vec::with_capacity(data.len() / 3 + 32);
        // The size in a little-endian varint: 4 bits in the first byte beside the type, then 7
        // bits per byte, the high bit saying another byte follows.
        let mut size = data.len();
        let mut byte = (type_bits << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            bytes.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        bytes.push(byte);
        deflate_into(&mut bytes, data);
        let place = if type_bits == 3 { 2 } else { 0 };
        PackEntry { id, bytes, place }
    }

    /// The same entry, marked as read often (a version's text): placed before other blobs.
    pub fn read_often(mut self) -> PackEntry {
        self.place = self.place.min(1);
        self
    }

    /// The blob entry of `data`, with its id computed here.
    pub fn blob(data: &[u8]) -> Result<PackEntry, git2::Error> {
        let id = Oid::hash_object(ObjectType::Blob, data)?;
        Ok(PackEntry::new(ObjectType::Blob, id, data))
    }
}

/// The compression level: a fast one, as git's loose objects use (`git gc` repacks with deltas
/// later, which is where the space is won); 2 compresses the texts of policies a fifth better
/// than 1 for little more time.
const LEVEL: u32 = 2;

thread_local! {
    /// Each thread's compressor, reset for each object: a compressor's state is a few hundred
    /// kilobytes, which allocated for every object left the allocator holding much memory.
    static DEFLATE: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::new(LEVEL), true));
}

/// Appends the zlib stream of `data` to `out`.
fn deflate_into(out: &mut Vec<u8>, data: &[u8]) {
    let start = out.len();
    let done = DEFLATE.with(|cell| {
        let mut compress = cell.borrow_mut();
        compress.reset();
        loop {
            out.reserve(data.len() / 4 + 256);
            let consumed = compress.total_in() as usize;
            match compress.compress_vec(&data[consumed..], out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    });
    if !done {
        // Never expected (the compressor is in a known state); a fresh one then.
        out.truncate(start);
        let mut encoder =
            flate2::write::ZlibEncoder::new(std::mem::take(out), flate2::Compression::new(LEVEL));
        let _ = encoder.write_all(data);
        *out = encoder.finish().unwrap_or_default();
    }
}

/// A pack written by [`write_pack`]: its file, and where each of its objects lies in it.
#[derive(Debug, Default)]
pub struct WrittenPack {
    /// The `.pack` file.
    pub path: std::path::PathBuf,
    /// Each object's entry: its offset in the pack and its length (header and zlib stream).
    pub entries: std::collections::HashMap<Oid, (u64, usize)>,
}

/// Writes `entries` (duplicates are written once) as one pack and its index in `pack_dir`.
pub fn write_pack(pack_dir: &Path, entries: &[PackEntry]) -> std::io::Result<WrittenPack> {
    let mut unique: Vec<&PackEntry> = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    for entry in entries {
        if seen.insert(entry.id) {
            unique.push(entry);
        }
    }
    unique.sort_by_key(|entry| entry.place);
    std::fs::create_dir_all(pack_dir)?;

    // The pack: header, entries, and the SHA-1 of all that.
    let mut pack = tempfile::Builder::new()
        .prefix("tmp_pack_")
        .tempfile_in(pack_dir)?;
    let mut checksum = Sha1::new();
    let mut offsets = Vec::with_capacity(unique.len());
    let pack_checksum = {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, pack.as_file_mut());
        let mut header = Vec::with_capacity(12);
        header.extend_from_slice(b"PACK");
        header.extend_from_slice(&2u32.to_be_bytes());
        header.extend_from_slice(&(unique.len() as u32).to_be_bytes());
        out.write_all(&header)?;
        checksum.update(&header);
        let mut offset = header.len() as u64;
        for entry in &unique {
            offsets.push(offset);
            out.write_all(&entry.bytes)?;
            checksum.update(&entry.bytes);
            offset += entry.bytes.len() as u64;
        }
        let pack_checksum: [u8; 20] = checksum.finalize_reset().into();
        out.write_all(&pack_checksum)?;
        out.flush()?;
        pack_checksum
    };
    let name = format!("pack-{}", hex::encode(pack_checksum));

    // The index (version 2): fan-out table, sorted ids, CRC-32s, offsets, checksums.
    let mut order: Vec<usize> = (0..unique.len()).collect();
    order.sort_by(|&a, &b| unique[a].id.as_bytes().cmp(unique[b].id.as_bytes()));
    let mut index = Vec::with_capacity(8 + 1024 + unique.len() * 28 + 40);
    index.extend_from_slice(b"\xfftOc");
    index.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for entry in &unique {
        fanout[entry.id.as_bytes()[0] as usize] += 1;
    }
    let mut total = 0u32;
    for count in fanout {
        total += count;
        index.extend_from_slice(&total.to_be_bytes());
    }
    for &i in &order {
        index.extend_from_slice(unique[i].id.as_bytes());
    }
    for &i in &order {
        index.extend_from_slice(&crc32fast::hash(&unique[i].bytes).to_be_bytes());
    }
    // Offsets past 2 GiB go to a table of 8-byte offsets, named by index with the high bit set.
    let mut large = Vec::new();
    for &i in &order {
        let offset = offsets[i];
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
    read_only(pack.as_file())?;
    let pack_path = pack_dir.join(format!("{name}.pack"));
    pack.persist(&pack_path).map_err(|e| e.error)?;
    let mut idx = tempfile::Builder::new()
        .prefix("tmp_idx_")
        .tempfile_in(pack_dir)?;
    idx.write_all(&index)?;
    read_only(idx.as_file())?;
    idx.persist(pack_dir.join(format!("{name}.idx")))
        .map_err(|e| e.error)?;
    Ok(WrittenPack {
        path: pack_path,
        entries: unique
            .iter()
            .zip(offsets)
            .map(|(entry, offset)| (entry.id, (offset, entry.bytes.len())))
            .collect(),
    })
}

/// Reads back the content of the blob whose entry lies at `offset` in `pack` and is `length`
/// bytes long (as [`WrittenPack`] tells), inflated with this crate's zlib — more than twice
/// as fast as libgit2's, which the working tree's writer paid for every file of a first round.
/// zlib's own checksum (Adler-32) and the size in the entry's header vouch for the content.
pub fn read_blob_at(
    pack: &std::fs::File,
    offset: u64,
    length: usize,
    inflate: &mut flate2::Decompress,
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
    let size = usize::try_from(size).map_err(|_| corrupt("a pack entry's size is too large"))?;
    let mut content = Vec::with_capacity(size);
    inflate.reset(true);
    let status = inflate
        .decompress_vec(&entry[at..], &mut content, flate2::FlushDecompress::Finish)
        .map_err(|e| corrupt(&format!("the pack entry does not inflate: {e}")))?;
    if status != flate2::Status::StreamEnd || content.len() != size {
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
        let mut inflate = flate2::Decompress::new(true);
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
}
