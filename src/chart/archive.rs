//! A chart archive (`.tgz`) turned into a list of [`File`]s, the way Helm's
//! `archive.LoadArchiveFiles` does it, with its path checks and size limits.
//!
//! What Helm v4.3.1 does and this module does too:
//! - gzip (several concatenated members read as one stream, as Go's
//!   `gzip.Reader` does) around a tar stream;
//! - the first path component of every entry (the chart's directory) is
//!   stripped; a name containing `\` is split on `\` instead of `/` and the
//!   result normalised to `/`;
//! - rejected: an absolute path, a path that is `.` after cleaning (an entry
//!   at the archive root), one that climbs out with `..`, a drive-letter
//!   path (`c:/…`), and `Chart.yaml/…` as a first component — with Helm's
//!   messages;
//! - directory entries and PAX headers are skipped; a UTF-8 BOM at the start
//!   of a file is dropped;
//! - the decompressed total is limited (default 100 MiB), and a chart
//!   whose files reach the limit is refused.
//!
//! Where berth is stricter than Helm (Helm's behaviour is unsafe or
//! unbounded):
//! - links: Helm keeps a symlink or hardlink entry as an empty file. berth
//!   does the same for a link whose target stays inside the chart, and
//!   refuses a link whose target is absolute or climbs out of the chart
//!   (naming the entry and its target), so nothing that later unpacks or
//!   inspects the files can be pointed outside;
//! - a per-file limit (default 5 MiB, Helm's former `MaxDecompressedFileSize`,
//!   which v4.3.1 keeps but no longer enforces);
//! - limits are enforced while streaming: nothing larger than the remaining
//!   budget is ever read into memory, and the size errors name the entry;
//! - entry names count against the total budget too, and the decompressed
//!   tar stream as a whole may not exceed twice the total limit plus 16 MiB,
//!   so a gzip bomb of empty entries or of huge long-name/PAX records (which
//!   the `tar` crate buffers) fails fast.

use std::io::{BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use crate::File;

/// Size limits for reading an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// The most decompressed bytes all files together may have (Helm's
    /// `MaxDecompressedChartSize`, 100 MiB). A chart reaching it is refused.
    pub max_total_bytes: u64,
    /// The most one file may have (Helm's `MaxDecompressedFileSize`, 5 MiB).
    pub max_file_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_total_bytes: 100 * 1024 * 1024,
            max_file_bytes: 5 * 1024 * 1024,
        }
    }
}

/// Why an archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Empty input (Go's `gzip.NewReader` returns `io.EOF`).
    #[error("EOF")]
    Empty,
    /// Not gzip (Go's `gzip.ErrHeader`).
    #[error("gzip: invalid header")]
    NotGzip,
    /// The stream ended early.
    #[error("unexpected EOF")]
    Truncated,
    /// Corrupt compressed data or a malformed tar stream.
    #[error("failed to read chart archive: {0}")]
    Corrupt(String),
    #[error("chart illegally contains absolute paths")]
    AbsolutePath { entry: String },
    #[error("chart illegally contains content outside the base directory: {}", berth_semver::go_quote(.entry))]
    OutsideBase { entry: String },
    #[error("chart illegally references parent directory")]
    ParentDirectory { entry: String },
    #[error("chart contains illegally named files")]
    IllegalName { entry: String },
    #[error("chart yaml not in base directory")]
    ChartYamlNotInBase { entry: String },
    #[error("chart illegally contains a link that points outside the chart: {} -> {}", berth_semver::go_quote(.entry), berth_semver::go_quote(.target))]
    LinkEscapes { entry: String, target: String },
    #[error("decompressed chart is larger than the maximum size {max} (at entry {})", berth_semver::go_quote(.entry))]
    TooLarge { entry: String, max: u64 },
    #[error("decompressed chart file {} is larger than the maximum file size {max}", berth_semver::go_quote(.entry))]
    FileTooLarge { entry: String, max: u64 },
    #[error("no files in chart archive")]
    NoFiles,
}

impl ArchiveError {
    /// Whether the input was not gzip at all (Helm's `gzip.ErrHeader`).
    pub fn is_not_gzip(&self) -> bool {
        matches!(self, ArchiveError::NotGzip)
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Read a gzipped tar chart archive into its files, names relative to the
/// chart root, in archive order. See the module documentation for the
/// checks.
pub fn read_archive(reader: impl Read, limits: &ArchiveLimits) -> Result<Vec<File>, ArchiveError> {
    let mut reader = reader;
    let head = read_gzip_header(&mut reader)?;
    let stream_cap = limits
        .max_total_bytes
        .saturating_mul(2)
        .saturating_add(16 * 1024 * 1024);
    let decoder = CappedReader {
        inner: MultiGzDecoder::new(BufReader::new(std::io::Cursor::new(head).chain(reader))),
        remaining: stream_cap,
    };
    let mut archive = tar::Archive::new(decoder);
    let entries = archive.entries().map_err(io_error)?;

    let mut files = Vec::new();
    let mut remaining = limits.max_total_bytes;
    for entry in entries {
        let mut entry = entry.map_err(io_error)?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().unwrap_or(0);
        if kind.is_dir()
            || (kind.as_byte() == b'\0' && raw_name.ends_with('/'))
            || mode & 0o170000 == 0o040000
        {
            continue;
        }
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }

        let name = chart_relative_name(&raw_name)?;

        // Names are charged to the budget so that a flood of empty entries
        // cannot grow memory without bound.
        let name_cost = name.len() as u64;
        if name_cost >= remaining {
            return Err(ArchiveError::TooLarge {
                entry: raw_name,
                max: limits.max_total_bytes,
            });
        }
        remaining -= name_cost;

        // Go's tar reader gives links, devices and fifos no data.
        let header_only = kind.is_symlink()
            || kind.is_hard_link()
            || kind.is_character_special()
            || kind.is_block_special()
            || kind.is_fifo();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            check_link(&raw_name, &name, &target, kind.is_hard_link())?;
            files.push(File {
                name,
                data: Vec::new(),
            });
            continue;
        }
        if header_only {
            files.push(File {
                name,
                data: Vec::new(),
            });
            continue;
        }

        let size = entry.size();
        if size > remaining {
            return Err(ArchiveError::TooLarge {
                entry: raw_name,
                max: limits.max_total_bytes,
            });
        }
        if size > limits.max_file_bytes {
            return Err(ArchiveError::FileTooLarge {
                entry: raw_name,
                max: limits.max_file_bytes,
            });
        }
        // Read at most one byte past what is allowed, to detect an entry
        // that carries more than its header claims without buffering it.
        let allowed = remaining.min(limits.max_file_bytes);
        let mut data = Vec::with_capacity(size.min(allowed) as usize);
        (&mut entry)
            .take(allowed.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(io_error)?;
        let got = data.len() as u64;
        if got > limits.max_file_bytes {
            return Err(ArchiveError::FileTooLarge {
                entry: raw_name,
                max: limits.max_file_bytes,
            });
        }
        if got > remaining || got < size {
            return Err(ArchiveError::TooLarge {
                entry: raw_name,
                max: limits.max_total_bytes,
            });
        }
        remaining -= got;
        if remaining == 0 {
            return Err(ArchiveError::TooLarge {
                entry: raw_name,
                max: limits.max_total_bytes,
            });
        }
        if data.starts_with(UTF8_BOM) {
            data.drain(..UTF8_BOM.len());
        }
        files.push(File { name, data });
    }

    if files.is_empty() {
        return Err(ArchiveError::NoFiles);
    }
    Ok(files)
}

/// Go's `gzip.NewReader` reads the 10-byte header at once: empty input is
/// `EOF`, a shorter one `unexpected EOF`, a wrong magic or method `gzip:
/// invalid header`. Returns the bytes read, to be fed to the decoder.
fn read_gzip_header(input: &mut impl Read) -> Result<Vec<u8>, ArchiveError> {
    let mut head = Vec::with_capacity(10);
    input.take(10).read_to_end(&mut head).map_err(io_error)?;
    match head.len() {
        0 => Err(ArchiveError::Empty),
        1..=9 => Err(ArchiveError::Truncated),
        _ if head[..3] != [0x1f, 0x8b, 0x08] => Err(ArchiveError::NotGzip),
        _ => Ok(head),
    }
}

/// The entry's name relative to the chart root, with Helm's checks.
fn chart_relative_name(raw: &str) -> Result<String, ArchiveError> {
    // An archive made on Windows may use `\`.
    let delimiter = if raw.contains('\\') { '\\' } else { '/' };
    let mut parts = raw.split(delimiter);
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let joined = rest.join("/");

    if joined.starts_with('/') {
        return Err(ArchiveError::AbsolutePath {
            entry: raw.to_string(),
        });
    }
    let name = clean_path(&joined);
    if name == "." {
        return Err(ArchiveError::OutsideBase {
            entry: raw.to_string(),
        });
    }
    if name.starts_with("..") {
        return Err(ArchiveError::ParentDirectory {
            entry: raw.to_string(),
        });
    }
    if is_drive_path(&name) {
        return Err(ArchiveError::IllegalName {
            entry: raw.to_string(),
        });
    }
    if first == "Chart.yaml" {
        return Err(ArchiveError::ChartYamlNotInBase {
            entry: raw.to_string(),
        });
    }
    Ok(name)
}

/// Refuse a link whose target is absolute or leaves the chart. A symlink's
/// target is relative to the link's directory; a hardlink's names another
/// archive entry (with the chart's directory as its first component).
fn check_link(raw: &str, name: &str, target: &str, hard: bool) -> Result<(), ArchiveError> {
    let escapes = || ArchiveError::LinkEscapes {
        entry: raw.to_string(),
        target: target.to_string(),
    };
    let t = target.replace('\\', "/");
    if t.is_empty() || t.starts_with('/') || is_drive_path(&t) {
        return Err(escapes());
    }
    let resolved = if hard {
        match t.split_once('/') {
            Some((_, rest)) => clean_path(rest),
            // A hardlink to the chart directory itself or to a root entry.
            None => return Err(escapes()),
        }
    } else {
        let dir = match name.rfind('/') {
            Some(i) => &name[..i],
            None => "",
        };
        clean_path(format!("{dir}/{t}").trim_start_matches('/'))
    };
    if resolved == ".." || resolved.starts_with("../") || resolved.starts_with('/') {
        return Err(escapes());
    }
    Ok(())
}

/// `^[a-zA-Z]:/`
fn is_drive_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/'
}

/// Go's `path.Clean`: the shortest equivalent path, lexically.
pub(crate) fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(&last) if last != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

fn io_error(e: std::io::Error) -> ArchiveError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return ArchiveError::Truncated;
    }
    // flate2 reports a bad member header as InvalidInput.
    if e.kind() == std::io::ErrorKind::InvalidInput {
        return ArchiveError::NotGzip;
    }
    if let Some(inner) = e.get_ref() {
        if inner.is::<StreamTooLarge>() {
            return ArchiveError::Corrupt(inner.to_string());
        }
    }
    ArchiveError::Corrupt(e.to_string())
}

#[derive(Debug, thiserror::Error)]
#[error("the decompressed archive stream exceeds {0} bytes")]
struct StreamTooLarge(u64);

/// Fails once more than `remaining` bytes have been read through it.
struct CappedReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(std::io::Error::other(StreamTooLarge(self.remaining)));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    /// One entry of a test archive.
    enum Entry<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
        Hardlink(&'a str, &'a str),
    }

    /// Builds a tar with raw names (the builder's `append_data` would
    /// refuse `..` and absolute paths, which is what these tests need).
    fn tar_bytes(entries: &[Entry]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in entries {
            let mut h = tar::Header::new_gnu();
            let (name, data, kind, link): (&str, &[u8], tar::EntryType, Option<&str>) = match e {
                Entry::File(n, d) => (n, d, tar::EntryType::Regular, None),
                Entry::Dir(n) => (n, b"", tar::EntryType::Directory, None),
                Entry::Symlink(n, t) => (n, b"", tar::EntryType::Symlink, Some(t)),
                Entry::Hardlink(n, t) => (n, b"", tar::EntryType::Link, Some(t)),
            };
            set_raw_name(&mut h, name);
            if let Some(t) = link {
                set_raw_link(&mut h, t);
            }
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            h.set_mode(if kind == tar::EntryType::Directory {
                0o755
            } else {
                0o644
            });
            h.set_cksum();
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn set_raw_name(h: &mut tar::Header, name: &str) {
        let field = &mut h.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
    }

    fn set_raw_link(h: &mut tar::Header, target: &str) {
        let field = &mut h.as_old_mut().linkname;
        field.fill(0);
        field[..target.len()].copy_from_slice(target.as_bytes());
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read(entries: &[Entry]) -> Result<Vec<File>, ArchiveError> {
        read_archive(&gzip(&tar_bytes(entries))[..], &ArchiveLimits::default())
    }

    fn err(entries: &[Entry]) -> String {
        match read(entries) {
            Ok(files) => panic!(
                "expected an error, got {:?}",
                files.iter().map(|f| &f.name).collect::<Vec<_>>()
            ),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_files_strips_first_component_skips_dirs_and_bom() {
        let files = read(&[
            Entry::Dir("mychart/"),
            Entry::File("mychart/Chart.yaml", b"name: x\n"),
            Entry::File("mychart/templates/a.yaml", b"\xEF\xBB\xBFkind: A\n"),
            Entry::File("mychart/./files/../files/b.txt", b"b"),
            Entry::File("mychart\\templates\\win.yaml", b"w"),
        ])
        .unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Chart.yaml",
                "templates/a.yaml",
                "files/b.txt",
                "templates/win.yaml"
            ]
        );
        assert_eq!(files[1].data, b"kind: A\n");
    }

    #[test]
    fn rejects_hostile_paths() {
        assert_eq!(
            err(&[Entry::File("mychart/../../etc/passwd", b"x")]),
            "chart illegally references parent directory"
        );
        assert_eq!(
            err(&[Entry::File("mychart//etc/passwd", b"x")]),
            "chart illegally contains absolute paths"
        );
        assert_eq!(
            err(&[Entry::File("mychart\\\\windows", b"x")]),
            "chart illegally contains absolute paths"
        );
        assert_eq!(
            err(&[Entry::File("mychart/c:/evil", b"x")]),
            "chart contains illegally named files"
        );
        // An entry at the archive root cleans to "." once its first
        // component is stripped (this is also what a root Chart.yaml gives).
        assert_eq!(
            err(&[Entry::File("Chart.yaml", b"name: x")]),
            "chart illegally contains content outside the base directory: \"Chart.yaml\""
        );
        assert_eq!(
            err(&[Entry::File("Chart.yaml/values.yaml", b"a: 1")]),
            "chart yaml not in base directory"
        );
        assert_eq!(
            err(&[Entry::File("mychart/a/..", b"x")]),
            "chart illegally contains content outside the base directory: \"mychart/a/..\""
        );
    }

    #[test]
    fn links_inside_are_empty_files_and_escaping_links_are_refused() {
        let files = read(&[
            Entry::File("c/Chart.yaml", b"name: c"),
            Entry::Symlink("c/templates/link.yaml", "../files/a.yaml"),
            Entry::Hardlink("c/files/hard.txt", "c/Chart.yaml"),
        ])
        .unwrap();
        assert_eq!(files[1].name, "templates/link.yaml");
        assert!(files[1].data.is_empty());
        assert!(files[2].data.is_empty());

        assert_eq!(
            err(&[Entry::Symlink("c/templates/x.yaml", "../../../etc/passwd")]),
            "chart illegally contains a link that points outside the chart: \
             \"c/templates/x.yaml\" -> \"../../../etc/passwd\""
        );
        assert_eq!(
            err(&[Entry::Symlink("c/x", "/etc/passwd")]),
            "chart illegally contains a link that points outside the chart: \"c/x\" -> \"/etc/passwd\""
        );
        assert_eq!(
            err(&[Entry::Hardlink("c/x", "c/../../etc/shadow")]),
            "chart illegally contains a link that points outside the chart: \
             \"c/x\" -> \"c/../../etc/shadow\""
        );
        assert_eq!(
            err(&[Entry::Hardlink("c/x", "/etc/shadow")]),
            "chart illegally contains a link that points outside the chart: \"c/x\" -> \"/etc/shadow\""
        );
    }

    #[test]
    fn per_file_and_total_limits() {
        let limits = ArchiveLimits {
            max_total_bytes: 1000,
            max_file_bytes: 300,
        };
        let big = vec![b'a'; 301];
        let e = read_archive(
            &gzip(&tar_bytes(&[Entry::File("c/big.txt", &big)]))[..],
            &limits,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "decompressed chart file \"c/big.txt\" is larger than the maximum file size 300"
        );

        // Many small files that together pass the total.
        let chunk = vec![b'x'; 250];
        let names: Vec<String> = (0..5).map(|i| format!("c/f{i}.txt")).collect();
        let entries: Vec<Entry> = names.iter().map(|n| Entry::File(n, &chunk)).collect();
        let e = read_archive(&gzip(&tar_bytes(&entries))[..], &limits).unwrap_err();
        assert!(
            matches!(e, ArchiveError::TooLarge { ref entry, .. } if entry == "c/f3.txt"),
            "{e}"
        );
        assert!(e
            .to_string()
            .starts_with("decompressed chart is larger than the maximum size 1000"));

        // Within the limits.
        let entries: Vec<Entry> = names[..3].iter().map(|n| Entry::File(n, &chunk)).collect();
        assert_eq!(
            read_archive(&gzip(&tar_bytes(&entries))[..], &limits)
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn gzip_bomb_of_small_files_fails_fast() {
        // 64 files of 512 KiB of zeros, each under the file limit, 32 MiB
        // together against a 10 MiB total; a few tens of KiB compressed.
        let limits = ArchiveLimits {
            max_total_bytes: 10 * 1024 * 1024,
            max_file_bytes: 1024 * 1024,
        };
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        {
            let mut b = tar::Builder::new(&mut enc);
            let zeros = vec![0u8; 512 * 1024];
            for i in 0..64 {
                let mut h = tar::Header::new_gnu();
                h.set_size(zeros.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, format!("bomb/f{i}"), &zeros[..])
                    .unwrap();
            }
            b.finish().unwrap();
        }
        let gz = enc.finish().unwrap();
        assert!(gz.len() < 1024 * 1024, "compressed {}", gz.len());
        let e = read_archive(&gz[..], &limits).unwrap_err();
        // The 20th file (f19) no longer fits: it is refused before reading.
        assert!(
            matches!(e, ArchiveError::TooLarge { ref entry, .. } if entry == "bomb/f19"),
            "{e}"
        );
    }

    #[test]
    fn huge_long_name_record_is_capped() {
        // A GNU long-name record the tar crate would buffer whole.
        let limits = ArchiveLimits {
            max_total_bytes: 1024,
            max_file_bytes: 1024,
        };
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::GNULongName);
        let long = vec![b'a'; 20 * 1024 * 1024];
        h.set_size(long.len() as u64);
        h.set_cksum();
        b.append(&h, &long[..]).unwrap();
        let gz = gzip(&b.into_inner().unwrap());
        let e = read_archive(&gz[..], &limits).unwrap_err();
        assert!(
            e.to_string()
                .contains("decompressed archive stream exceeds"),
            "{e}"
        );
    }

    #[test]
    fn not_gzip_truncated_and_empty() {
        assert_eq!(
            read_archive(&b"name: x\nversion: 1.0.0\n"[..], &ArchiveLimits::default())
                .unwrap_err()
                .to_string(),
            "gzip: invalid header"
        );
        // Shorter than a gzip header: Go's io.ReadFull says unexpected EOF.
        assert_eq!(
            read_archive(&b"garbage"[..], &ArchiveLimits::default())
                .unwrap_err()
                .to_string(),
            "unexpected EOF"
        );
        assert_eq!(
            read_archive(&b""[..], &ArchiveLimits::default())
                .unwrap_err()
                .to_string(),
            "EOF"
        );
        let full = gzip(&tar_bytes(&[Entry::File("c/Chart.yaml", &[b'n'; 5000])]));
        // (Like Go's tar reader, reading stops at the end-of-archive blocks,
        // so a missing gzip trailer after them goes unnoticed.)
        for cut in [2, 10, full.len() / 2] {
            match read_archive(&full[..cut], &ArchiveLimits::default()) {
                Err(ArchiveError::Truncated | ArchiveError::Corrupt(_)) => {}
                Err(e) => panic!("cut at {cut}: unexpected error {e}"),
                Ok(files) => panic!("cut at {cut}: read {} files", files.len()),
            }
        }
        // gzip of something that is not a tar.
        let e = read_archive(&gzip(&[7u8; 2048])[..], &ArchiveLimits::default()).unwrap_err();
        assert!(matches!(e, ArchiveError::Corrupt(_)), "{e}");
        // A valid but empty tar.
        let e = read_archive(&gzip(&tar_bytes(&[]))[..], &ArchiveLimits::default()).unwrap_err();
        assert_eq!(e.to_string(), "no files in chart archive");
    }

    #[test]
    fn clean_path_is_go_path_clean() {
        // From Go's path.Clean tests.
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
        ] {
            assert_eq!(clean_path(input), want, "Clean({input:?})");
        }
    }
}
