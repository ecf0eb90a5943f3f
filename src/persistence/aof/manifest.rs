//! The AOF manifest: which files of `appenddirname` make up the AOF.
//!
//! One line per file, `file <name> seq <n> type <b|h|i>`: the base first,
//! then history files (waiting to be deleted), then the incr files in the
//! order they are replayed. The format, the checks made on load and the
//! error texts are Redis 7.0's (`aof.c`, `aofLoadManifestFromFile`).
//!
//! # Crash safety
//!
//! [`write`] writes `temp-<appendfilename>.manifest`, fsyncs it, renames it
//! over the manifest and fsyncs the directory: a crash leaves the old
//! manifest or the new one.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::config::strerror;
use crate::util::splitargs::split_args;

/// Longest manifest line Redis reads (`MANIFEST_MAX_LINE`).
const MAX_LINE: usize = 1024;

/// The role of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofInfo {
    pub name: String,
    pub seq: i64,
    pub kind: FileType,
}

/// The manifest in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofInfo>,
    pub history: Vec<AofInfo>,
    pub incr: Vec<AofInfo>,
    /// Highest base / incr sequence numbers handed out.
    pub base_seq: i64,
    pub incr_seq: i64,
    /// Changed since it was last written.
    pub dirty: bool,
}

/// Why a manifest could not be read: the offending line (number, text)
/// and Redis's message.
#[derive(Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub line: Option<(usize, String)>,
    pub msg: &'static str,
}

impl ManifestError {
    /// The lines Redis logs before exiting.
    pub fn log_lines(&self) -> Vec<String> {
        let mut v = vec!["\n*** FATAL AOF MANIFEST FILE ERROR ***\n".to_string()];
        if let Some((n, text)) = &self.line {
            v.push(format!("Reading the manifest file, at line {n}\n"));
            v.push(format!(">>> '{text}'\n"));
        }
        v.push(format!("{}\n", self.msg));
        v
    }
}

/// True when a file name must be quoted in the manifest (`sdsneedsrepr`).
fn needs_repr(name: &str) -> bool {
    name.bytes().any(|b| {
        matches!(b, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 7 | 8 | b' ') || !b.is_ascii_graphic()
    })
}

impl Manifest {
    /// The file's text (`getAofManifestAsString`).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let all = self.base.iter().chain(&self.history).chain(&self.incr);
        for ai in all {
            let name = if needs_repr(&ai.name) {
                crate::util::repr(ai.name.as_bytes())
            } else {
                ai.name.clone()
            };
            s.push_str(&format!(
                "file {name} seq {} type {}\n",
                ai.seq,
                ai.kind.letter()
            ));
        }
        s
    }

    /// Parses a manifest file's bytes with Redis's checks.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut am = Manifest::default();
        let mut maxseq = 0i64;
        let mut linenum = 0usize;
        let mut rest = text;
        let fail = |line: Option<(usize, String)>, msg| Err(ManifestError { line, msg });
        if text.is_empty() {
            return fail(None, "Found an empty AOF manifest");
        }
        while !rest.is_empty() {
            // fgets: a line of at most MAX_LINE bytes, newline included.
            let take = rest.len().min(MAX_LINE);
            let (raw, has_nl) = match rest[..take].iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..=i], true),
                None => (&rest[..take], false),
            };
            rest = &rest[raw.len()..];
            linenum += 1;
            if raw[0] == b'#' {
                continue;
            }
            if !has_nl {
                return fail(None, "The AOF manifest file contains too long line");
            }
            let trimmed = trim(raw);
            let shown = || Some((linenum, String::from_utf8_lossy(trimmed).into_owned()));
            if trimmed.is_empty() {
                return fail(shown(), "Invalid AOF manifest file format");
            }
            let argv = match split_args(trimmed) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return fail(shown(), "Invalid AOF manifest file format"),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, None);
            for pair in argv.chunks(2) {
                let key = &pair[0];
                if key.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8_lossy(&pair[1]).into_owned();
                    if n.contains('/') {
                        return fail(shown(), "File can't be a path, just a filename");
                    }
                    name = Some(n);
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(&pair[1]);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = pair[1].first().copied();
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return fail(shown(), "Invalid AOF manifest file format");
            };
            if seq == 0 || name.is_empty() {
                return fail(shown(), "Invalid AOF manifest file format");
            }
            match kind {
                b'b' => {
                    if am.base.is_some() {
                        return fail(shown(), "Found duplicate base file information");
                    }
                    am.base_seq = seq;
                    am.base = Some(AofInfo {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                }
                b'h' => am.history.push(AofInfo {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= maxseq {
                        return fail(shown(), "Found a non-monotonic sequence number");
                    }
                    maxseq = seq;
                    am.incr_seq = seq;
                    am.incr.push(AofInfo {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                }
                _ => return fail(shown(), "Unknown AOF file type"),
            }
        }
        Ok(am)
    }

    /// A new base file name; the current base becomes history
    /// (`getNewBaseFileNameAndMarkPreAsHistory`).
    pub fn new_base(&mut self, filename: &str, rdb_format: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let suffix = if rdb_format { "rdb" } else { "aof" };
        let name = format!("{filename}.{}.base.{suffix}", self.base_seq);
        self.base = Some(AofInfo {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileType::Base,
        });
        self.dirty = true;
        name
    }

    /// A new incr file at the end of the list (`getNewIncrAofName`).
    pub fn new_incr(&mut self, filename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{filename}.{}.incr.aof", self.incr_seq);
        self.incr.push(AofInfo {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        self.dirty = true;
        name
    }

    /// The last incr file, or a new one when there is none.
    pub fn last_incr_or_new(&mut self, filename: &str) -> String {
        match self.incr.last() {
            Some(ai) => ai.name.clone(),
            None => self.new_incr(filename),
        }
    }

    /// After a rewrite: the incr files it covers become history; with
    /// `keep_last` the one being written stays
    /// (`markRewrittenIncrAofAsHistory`).
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        if self.incr.is_empty() {
            return;
        }
        let keep = if keep_last { self.incr.pop() } else { None };
        // Newest first, each at the head of the history list, as Redis does.
        for mut ai in std::mem::take(&mut self.incr) {
            ai.kind = FileType::History;
            self.history.insert(0, ai);
        }
        self.incr.extend(keep);
        self.dirty = true;
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let is_blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !is_blank(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_blank(c))
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// C's `atoll`: optional blanks and sign, then digits; 0 when none.
fn atoll(b: &[u8]) -> i64 {
    let s = std::str::from_utf8(b).unwrap_or("").trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = digits
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n = digits[..end].parse::<i64>().unwrap_or(0);
    if neg {
        -n
    } else {
        n
    }
}

/// Writes the manifest atomically into `dir` (`writeAofManifestFile`).
/// The error is the line Redis logs.
pub fn write(dir: &Path, filename: &str, am: &Manifest) -> Result<(), String> {
    let name = format!("{filename}.manifest");
    let tmp_name = format!("temp-{filename}.manifest");
    let tmp = dir.join(&tmp_name);
    let path = dir.join(&name);
    let mut f = File::create(&tmp).map_err(|e| {
        format!(
            "Can't open the AOF manifest file {tmp_name}: {}",
            strerror(&e)
        )
    })?;
    f.write_all(am.to_text().as_bytes()).map_err(|e| {
        format!(
            "Error trying to write the temporary AOF manifest file {tmp_name}: {}",
            strerror(&e)
        )
    })?;
    f.sync_all().map_err(|e| {
        format!(
            "Fail to fsync the temp AOF file {tmp_name}: {}.",
            strerror(&e)
        )
    })?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF manifest file {tmp_name} into {name}: {}",
            strerror(&e)
        )
    })?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| {
        format!(
            "Fail to fsync AOF directory {}: {}.",
            path.display(),
            strerror(&e)
        )
    })
}

/// Reads `dir/<filename>.manifest`: `Ok(None)` when the directory or the
/// file does not exist.
pub fn load(dir: &Path, filename: &str) -> Result<Option<Manifest>, Vec<String>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let path = dir.join(format!("{filename}.manifest"));
    match std::fs::read(&path) {
        Ok(bytes) => Manifest::parse(&bytes).map(Some).map_err(|e| e.log_lines()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(vec![format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            path.display(),
            strerror(&e)
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_quotes_names_with_blanks() {
        let mut am = Manifest::default();
        am.new_base("appendonly.aof", true);
        am.new_incr("appendonly.aof");
        assert_eq!(
            am.to_text(),
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        let back = Manifest::parse(am.to_text().as_bytes()).unwrap();
        assert_eq!(back.base, am.base);
        assert_eq!(back.incr, am.incr);
        let mut ws = Manifest::default();
        ws.new_incr("my aof");
        assert_eq!(ws.to_text(), "file \"my aof.1.incr.aof\" seq 1 type i\n");
        assert_eq!(
            Manifest::parse(ws.to_text().as_bytes()).unwrap().incr[0].name,
            "my aof.1.incr.aof"
        );
    }

    #[test]
    fn rewrite_moves_incr_files_to_history_newest_first() {
        let mut am = Manifest::default();
        am.new_base("a", true);
        am.new_incr("a");
        am.new_incr("a");
        am.new_incr("a");
        am.new_base("a", true);
        am.mark_rewritten_incr_as_history(true);
        assert_eq!(
            am.to_text(),
            "file a.2.base.rdb seq 2 type b\nfile a.2.incr.aof seq 2 type h\nfile a.1.incr.aof seq 1 type h\nfile a.1.base.rdb seq 1 type h\nfile a.3.incr.aof seq 3 type i\n"
        );
    }

    #[test]
    fn bad_manifests_give_redis_messages() {
        let err = |t: &str| Manifest::parse(t.as_bytes()).unwrap_err().msg;
        assert_eq!(err(""), "Found an empty AOF manifest");
        assert_eq!(
            err("file a seq 1 type i\nfile b seq 1 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(
            err("file a seq 1 type i\n\nfile b seq 2 type i\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            err("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(err("file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(
            err("file a seq 1 typo i\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(err("file a seq 1\n"), "Invalid AOF manifest file format");
        assert_eq!(
            err("file a seq 1 type i x\n"),
            "Invalid AOF manifest file format"
        );
        let long = format!("file {} seq 1 type i\n", "a".repeat(1100));
        assert_eq!(err(&long), "The AOF manifest file contains too long line");
        assert_eq!(
            err("file x/y seq 1 type i\n"),
            "File can't be a path, just a filename"
        );
        let e = Manifest::parse(b"file a seq 1 type x\n").unwrap_err();
        assert_eq!(e.line, Some((1, "file a seq 1 type x".to_string())));
    }
}
