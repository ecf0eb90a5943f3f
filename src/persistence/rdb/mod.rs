//! RDB: Redis 7.0's snapshot format.
//!
//! We write version 10 (`REDIS0010`) exactly as Redis 7.0 does and read
//! versions 1 to 11. Encoder and decoder are symmetric and work over a
//! CRC-64/Jones-updating writer / a bounds-checked byte reader. Every input is
//! hostile: lengths are checked against the bytes that remain before anything
//! is allocated, and compact encodings (listpack, ziplist, intset, zipmap) are
//! validated before they become values.
//!
//! The same value encoding serves `DUMP` / `RESTORE` ([`dump_value`],
//! [`restore_value`]), the fork() child, and (issue 5) the forkless walk,
//! which calls [`RdbWriter::entry`] segment by segment.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::keyspace::list::Fill;
use crate::keyspace::value::Value;
use crate::keyspace::{hash, lru_clock, now_ms, zset, Entry, Keyspace, SBytes};

pub mod crc64;
mod decode;
pub(crate) mod encode;
mod legacy;
pub mod lzf;

/// The version we write.
pub const RDB_VERSION: u16 = 10;
/// The newest version we read (Redis 7.2's).
pub const RDB_VERSION_MAX_READ: u16 = 11;
/// The newest version a `RESTORE` payload may be stamped with (Redis 7.4's).
/// A payload holds one value, and RDB 12 encodes every type we know exactly
/// as 11 and 10 do; its new types (hashes with field expiry) are refused as
/// unknown types, with "Bad data format".
pub const PAYLOAD_VERSION_MAX_READ: u16 = 12;

/// The Redis version the header's `redis-ver` aux field names.
pub const REDIS_VER: &str = "7.0.15";

/// Value type bytes.
pub mod rtype {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Redis 7.2.
    pub const SET_LISTPACK: u8 = 20;
    /// Redis 7.2.
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Opcodes between keys.
pub mod opcode {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

static SKIP_CHECKSUM: AtomicBool = AtomicBool::new(false);

/// `DEBUG SET-SKIP-CHECKSUM-VALIDATION`: when on, neither files nor
/// RESTORE payloads have their CRC-64 checked.
pub fn set_skip_checksum_validation(on: bool) {
    SKIP_CHECKSUM.store(on, Ordering::Relaxed);
}

pub fn skip_checksum_validation() -> bool {
    SKIP_CHECKSUM.load(Ordering::Relaxed)
}

/// Why a file or payload was refused.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Not an RDB file (bad magic) or a version we do not read.
    #[error("{0}")]
    Format(String),
    /// Structurally invalid content; the text says what and where.
    #[error("{0}")]
    Corrupt(String),
    /// The CRC-64 trailer does not match the content.
    #[error("Wrong RDB checksum expected: ({expected:#018x}) got: ({got:#018x})")]
    Checksum { expected: u64, got: u64 },
    /// A type we cannot hold (modules, streams until they exist).
    #[error("{0}")]
    Unsupported(String),
}

/// The encodings loaded values are given: the thresholds in the config
/// (`hash-max-listpack-entries` and friends), as Redis converts on load.
#[derive(Clone, Copy, Debug)]
pub struct Encodings {
    pub hash: hash::Limits,
    pub zset: zset::Limits,
    pub set_max_intset: usize,
    pub list_fill: Fill,
}

impl Encodings {
    /// The thresholds of a config.
    pub fn from_config(c: &crate::config::Config) -> Encodings {
        Encodings {
            hash: hash::Limits {
                max_entries: c.hash_max_listpack_entries,
                max_value: c.hash_max_listpack_value,
            },
            zset: zset::Limits {
                max_entries: c.zset_max_listpack_entries,
                max_value: c.zset_max_listpack_value,
            },
            set_max_intset: c.set_max_intset_entries,
            list_fill: Fill::new(c.list_max_listpack_size),
        }
    }
}

/// Which per-key access metadata a file carries (Redis writes IDLE with an
/// LRU `maxmemory-policy`, FREQ with an LFU one, neither otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessInfo {
    None,
    Lru,
    Lfu,
}

/// How a file is written.
#[derive(Clone, Debug)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes.
    pub compress: bool,
    /// `rdbchecksum`: a CRC-64 trailer (else eight zero bytes).
    pub checksum: bool,
    pub access: AccessInfo,
    /// Aux fields after the standard ones (`repl-id`, `repl-offset`, ...).
    pub extra_aux: Vec<(String, Vec<u8>)>,
    /// `aof-base` aux value.
    pub aof_base: bool,
    /// `used-mem` aux value.
    pub used_mem: u64,
}

/// The LFU clock's time part: minutes, 16 bits (Redis's LFUGetTimeInMinutes).
fn lfu_minutes() -> u32 {
    ((now_ms() / 60_000) & 0xFFFF) as u32
}

/// Sets a key's access clock from loaded metadata, as Redis's
/// objectSetLRUOrLFU: a FREQ becomes an LFU counter (with the current
/// minute), an IDLE time (seconds) an LRU clock that many seconds back.
pub fn set_access(e: &mut Entry, freq: Option<u8>, idle_secs: Option<u64>) {
    if let Some(f) = freq {
        e.set_clock((lfu_minutes() << 8) | f as u32);
    } else if let Some(idle) = idle_secs {
        let now = lru_clock() as u64;
        e.set_clock(now.saturating_sub(idle) as u32);
    }
}

/// A streaming writer of one RDB file: [`header`](Self::header), then per
/// database [`select_db`](Self::select_db) and [`entry`](Self::entry) calls,
/// then [`finish`](Self::finish) (EOF opcode and checksum).
pub struct RdbWriter<W: Write> {
    out: W,
    opts: SaveOptions,
    crc: u64,
    written: u64,
    /// Each call's bytes are built here, then written and summed at once.
    buf: Vec<u8>,
}

impl<W: Write> RdbWriter<W> {
    pub fn new(out: W, opts: SaveOptions) -> RdbWriter<W> {
        RdbWriter {
            out,
            opts,
            crc: 0,
            written: 0,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Writes and checksums what `buf` holds.
    fn flush_buf(&mut self) -> io::Result<()> {
        if self.opts.checksum {
            self.crc = self::crc64::crc64(self.crc, &self.buf);
        }
        self.out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        if self.buf.capacity() > 1 << 20 {
            self.buf.shrink_to(4096);
        }
        Ok(())
    }

    /// Magic, version and the aux fields Redis 7.0 writes.
    pub fn header(&mut self) -> io::Result<()> {
        let c = self.opts.compress;
        let b = &mut self.buf;
        b.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        encode::aux(b, b"redis-ver", REDIS_VER.as_bytes(), c);
        encode::aux(b, b"redis-bits", b"64", c);
        let ctime = (now_ms() / 1000).to_string();
        encode::aux(b, b"ctime", ctime.as_bytes(), c);
        encode::aux(b, b"used-mem", self.opts.used_mem.to_string().as_bytes(), c);
        for (k, v) in &self.opts.extra_aux {
            encode::aux(b, k.as_bytes(), v, c);
        }
        let base: &[u8] = if self.opts.aof_base { b"1" } else { b"0" };
        encode::aux(b, b"aof-base", base, c);
        self.flush_buf()
    }

    /// SELECTDB and RESIZEDB for a database with `keys` keys, `expires` of
    /// which have a deadline.
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        let b = &mut self.buf;
        b.push(opcode::SELECTDB);
        encode::len(b, db as u64);
        b.push(opcode::RESIZEDB);
        encode::len(b, keys);
        encode::len(b, expires);
        self.flush_buf()
    }

    /// One key: its deadline (EXPIRETIME_MS), IDLE/FREQ per the options,
    /// the type byte, key and value.
    pub fn entry(&mut self, e: &Entry, expire_ms: Option<i64>) -> io::Result<()> {
        entry_head(&mut self.buf, e, expire_ms, &self.opts);
        encode::body(&mut self.buf, &e.value, self.opts.compress);
        self.flush_buf()
    }

    /// Bytes encoded elsewhere (the forkless walk's segments), written and
    /// checksummed as they are.
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.opts.checksum {
            self.crc = self::crc64::crc64(self.crc, bytes);
        }
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// EOF opcode and the checksum; returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.push(opcode::EOF);
        self.flush_buf()?;
        let crc = if self.opts.checksum { self.crc } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        self.written += 8;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }
}

/// What precedes a key's value: its deadline (EXPIRETIME_MS), IDLE/FREQ
/// per the options, the type byte and the key.
pub(crate) fn entry_head(b: &mut Vec<u8>, e: &Entry, expire_ms: Option<i64>, opts: &SaveOptions) {
    if let Some(at) = expire_ms {
        b.push(opcode::EXPIRETIME_MS);
        b.extend_from_slice(&at.to_le_bytes());
    }
    match opts.access {
        AccessInfo::None => {}
        AccessInfo::Lru => {
            b.push(opcode::IDLE);
            encode::len(b, e.idle_secs());
        }
        AccessInfo::Lfu => {
            b.push(opcode::FREQ);
            b.push((e.clock() & 0xFF) as u8);
        }
    }
    b.push(encode::type_of(&e.value));
    encode::string(b, &e.key, opts.compress);
}

/// Writes a whole keyspace (header to trailer). `per_key` runs after each
/// key with the count so far (progress reports, `rdb-key-save-delay`).
pub fn write_keyspace<W: Write>(
    ks: &Keyspace,
    opts: SaveOptions,
    out: W,
    per_key: &mut dyn FnMut(u64),
) -> io::Result<W> {
    let mut w = RdbWriter::new(out, opts);
    w.header()?;
    let mut n = 0u64;
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.select_db(i, db.len() as u64, db.expires_len() as u64)?;
        for e in db.iter() {
            let deadline = if e.has_ttl() {
                db.expire_of(&e.key)
            } else {
                None
            };
            w.entry(e, deadline)?;
            n += 1;
            per_key(n);
        }
    }
    w.finish()
}

/// How a file is loaded.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub enc: Encodings,
    /// `sanitize-dump-payload yes`: deep validation of compact encodings
    /// (duplicates, ordering). Shallow header checks always run.
    pub deep_sanitize: bool,
    /// Number of databases; a SELECTDB beyond it is an error.
    pub databases: usize,
    /// Keys whose deadline is before this are skipped (a primary's load);
    /// `None` keeps them (a replica's load).
    pub drop_expired_before: Option<i64>,
}

/// A loaded file.
pub struct Loaded {
    pub keyspace: Keyspace,
    /// Every aux field, in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    pub keys_loaded: u64,
    pub expired_skipped: u64,
    /// The keys skipped as expired (database, key): a primary propagates
    /// their deletion (Redis's RDBFLAGS_FEED_REPL).
    pub expired_keys: Vec<(usize, Vec<u8>)>,
    pub version: u16,
    /// Keys whose value was an empty collection (Redis skips them too).
    pub empty_skipped: u64,
    /// The code of each FUNCTION2 library in the file, in order. This
    /// server has no functions yet: they are kept here, not loaded.
    pub functions: Vec<Vec<u8>>,
    /// Bytes the RDB took, checksum included (an old-style AOF goes on
    /// with commands after its RDB preamble).
    pub consumed: u64,
}

/// Loads a whole file from memory (a memory map for files on disk).
/// `per_key` runs after each key with the bytes consumed so far (progress,
/// `key-load-delay`). Nothing is returned unless the whole file is valid and
/// its checksum matches.
pub fn load(
    bytes: &[u8],
    opts: &LoadOptions,
    per_key: &mut dyn FnMut(u64),
) -> Result<Loaded, RdbError> {
    let mut r = decode::Reader::new(bytes);
    let magic = r
        .take(9)
        .map_err(|_| RdbError::Format("Wrong signature trying to load DB from file".into()))?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError::Format(
            "Wrong signature trying to load DB from file".into(),
        ));
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse::<u16>().ok())
        .filter(|v| (1..=RDB_VERSION_MAX_READ).contains(v))
        .ok_or_else(|| {
            RdbError::Format(format!(
                "Can't handle RDB format version {}",
                String::from_utf8_lossy(&magic[5..])
            ))
        })?;
    let ctx = decode::Ctx {
        enc: &opts.enc,
        deep: opts.deep_sanitize,
    };
    let mut out = Loaded {
        keyspace: Keyspace::new(opts.databases.max(1)),
        aux: Vec::new(),
        keys_loaded: 0,
        expired_skipped: 0,
        expired_keys: Vec::new(),
        version,
        empty_skipped: 0,
        functions: Vec::new(),
        consumed: 0,
    };
    let mut dbi = 0usize;
    let mut expire: Option<i64> = None;
    let mut freq: Option<u8> = None;
    let mut idle: Option<u64> = None;
    loop {
        let t = r.u8()?;
        match t {
            opcode::EXPIRETIME => {
                expire = Some(r.i32_le()? as i64 * 1000);
                continue;
            }
            opcode::EXPIRETIME_MS => {
                expire = Some(r.i64_le()?);
                continue;
            }
            opcode::FREQ => {
                freq = Some(r.u8()?);
                continue;
            }
            opcode::IDLE => {
                idle = Some(r.len()?);
                continue;
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                let id = r.len()?;
                if id >= opts.databases as u64 {
                    return Err(RdbError::Format(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases.",
                        opts.databases
                    )));
                }
                dbi = id as usize;
                continue;
            }
            opcode::RESIZEDB => {
                // Hints only: capped so a hostile header allocates little.
                let keys = r.len()?.min(bytes.len() as u64 / 4) as usize;
                let expires = r.len()?.min(keys as u64) as usize;
                out.keyspace.dbs[dbi].reserve(keys, expires);
                continue;
            }
            opcode::AUX => {
                let k = r.bytes()?.into_owned();
                let v = r.bytes()?.into_owned();
                out.aux.push((k, v));
                continue;
            }
            opcode::MODULE_AUX => {
                return Err(RdbError::Unsupported(
                    "The RDB file contains AUX module data I can't load: modules are not supported"
                        .into(),
                ))
            }
            opcode::FUNCTION => {
                return Err(RdbError::Unsupported(
                    "Pre-GA function loading is not supported, please upgrade".into(),
                ))
            }
            opcode::FUNCTION2 => {
                out.functions.push(r.bytes()?.into_owned());
                continue;
            }
            _ => {}
        }
        if !decode::is_value_type(t) {
            return Err(RdbError::Corrupt(format!("Unknown RDB encoding type {t}")));
        }
        let key = r.bytes()?;
        let decoded = decode::value(&mut r, t, &ctx)?;
        let deadline = expire.take();
        let (f, i) = (freq.take(), idle.take());
        match decoded {
            decode::Decoded::Empty => {
                if out.empty_skipped < 10 {
                    tracing::warn!(
                        "rdbLoadObject skipping empty key: {}",
                        String::from_utf8_lossy(&key)
                    );
                }
                out.empty_skipped += 1;
            }
            decode::Decoded::Value(v) => {
                let expired = matches!((deadline, opts.drop_expired_before),
                    (Some(at), Some(now)) if at < now);
                if expired {
                    out.expired_skipped += 1;
                    out.expired_keys.push((dbi, key.to_vec()));
                } else {
                    let db = &mut out.keyspace.dbs[dbi];
                    let mut e = Entry::new(SBytes::new(&key), v);
                    set_access(&mut e, f, i);
                    if db.insert_loaded(e, deadline).is_err() {
                        return Err(RdbError::Corrupt(format!(
                            "RDB has duplicated key '{}' in DB {}",
                            String::from_utf8_lossy(&key),
                            dbi
                        )));
                    }
                    out.keys_loaded += 1;
                }
            }
        }
        per_key(r.pos() as u64);
    }
    if version >= 5 {
        let body = r.pos();
        let stored = r.u64_le()?;
        check_crc(&bytes[..body], stored)?;
    }
    out.consumed = r.pos() as u64;
    if out.empty_skipped > 0 {
        tracing::warn!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            out.keys_loaded,
            out.expired_skipped,
            out.empty_skipped
        );
    }
    Ok(out)
}

/// Checks the CRC-64 `stored` after `covered` (an RDB file's trailer or a
/// DUMP payload's footer). Zero means "not computed" (`rdbchecksum no`) and
/// passes, as does anything while DEBUG SET-SKIP-CHECKSUM-VALIDATION is on.
fn check_crc(covered: &[u8], stored: u64) -> Result<(), RdbError> {
    if stored == 0 || skip_checksum_validation() {
        return Ok(());
    }
    let computed = self::crc64::crc64(0, covered);
    if computed != stored {
        return Err(RdbError::Checksum {
            expected: computed,
            got: stored,
        });
    }
    Ok(())
}

/// A `DUMP` payload: type byte, value, RDB version (2 bytes LE), CRC-64 (8
/// bytes LE) of everything before it.
pub fn dump_value(v: &Value, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    encode::value(&mut out, v, compress);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = self::crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The size of a value's RDB encoding without its type byte (Redis's
/// rdbSavedObjectLen, DEBUG OBJECT's serializedlength).
pub fn serialized_len(v: &Value, compress: bool) -> usize {
    let mut out = Vec::new();
    encode::body(&mut out, v, compress);
    out.len()
}

/// Decodes a `RESTORE` payload, checking its version and checksum.
/// A bad version or checksum is [`RdbError::Format`] /
/// [`RdbError::Checksum`]; anything wrong with the value itself another
/// variant (RESTORE answers "Bad data format").
///
/// A checksum field of zero means "not computed", as it does in an RDB file
/// saved with `rdbchecksum no` ([`check_crc`]): the value is then only as
/// trustworthy as its validation, which treats every payload as hostile
/// anyway.
pub fn restore_value(
    payload: &[u8],
    enc: &Encodings,
    deep_sanitize: bool,
) -> Result<Value, RdbError> {
    let n = payload.len();
    if n < 10 {
        return Err(RdbError::Format("DUMP payload too short".into()));
    }
    let version = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    if version > PAYLOAD_VERSION_MAX_READ {
        return Err(RdbError::Format(format!(
            "DUMP payload version {version} is newer than {PAYLOAD_VERSION_MAX_READ}"
        )));
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[n - 8..]);
    check_crc(&payload[..n - 8], u64::from_le_bytes(stored))?;
    let mut r = decode::Reader::new(&payload[..n - 10]);
    let t = r.u8()?;
    if !decode::is_value_type(t) {
        return Err(RdbError::Corrupt(format!("Unknown RDB encoding type {t}")));
    }
    let ctx = decode::Ctx {
        enc,
        deep: deep_sanitize,
    };
    match decode::value(&mut r, t, &ctx)? {
        decode::Decoded::Value(v) => Ok(v),
        decode::Decoded::Empty => Err(RdbError::Corrupt("Empty keys are not allowed".into())),
    }
}

#[cfg(test)]
pub(crate) mod tests;
