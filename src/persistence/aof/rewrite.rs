//! Writing an AOF base file: the dataset as an RDB (with
//! `aof-use-rdb-preamble yes`, the `aof-base` aux field set) or as the
//! commands that rebuild it (Redis's `rewriteAppendOnlyFileRio`: SET,
//! RPUSH / SADD / ZADD / HMSET with at most 64 items each, PEXPIREAT).
//!
//! Like [`crate::persistence::file::save`] this uses plain `std` I/O and no
//! logging or locks: the fork() child runs it (BGREWRITEAOF) as well as the
//! engine thread (the base created at startup).
//!
//! # Crash safety
//!
//! The file is written under a temporary name, flushed, fsynced and
//! renamed to its destination; on failure the temporary file is removed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::config::strerror;
use crate::keyspace::{Keyspace, Value};
use crate::persistence::file::AutoSync;
use crate::persistence::rdb::{self, SaveOptions};

/// Redis's AOF_REWRITE_ITEMS_PER_CMD.
const ITEMS_PER_CMD: usize = 64;

/// What a base file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseFormat {
    Rdb,
    /// Commands; `timestamp` starts the file with a `#TS:` annotation.
    Commands {
        timestamp: bool,
    },
}

/// Writes the base at `temp`, then renames it to `dest`. Returns the keys
/// written; the error is Redis's log line.
pub fn write_base(
    ks: &Keyspace,
    opts: SaveOptions,
    format: BaseFormat,
    temp: &Path,
    dest: &Path,
    incremental_fsync: bool,
    per_key: &mut dyn FnMut(u64),
) -> Result<u64, String> {
    let result = write_and_rename(ks, opts, format, temp, dest, incremental_fsync, per_key);
    if result.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    result
}

fn write_and_rename(
    ks: &Keyspace,
    mut opts: SaveOptions,
    format: BaseFormat,
    temp: &Path,
    dest: &Path,
    incremental_fsync: bool,
    per_key: &mut dyn FnMut(u64),
) -> Result<u64, String> {
    let werr = |e: io::Error| {
        format!(
            "Write error writing append only file on disk: {}",
            strerror(&e)
        )
    };
    let file = File::create(temp).map_err(|e| {
        format!(
            "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {}",
            strerror(&e)
        )
    })?;
    let out = BufWriter::with_capacity(64 << 10, AutoSync::new(file, incremental_fsync));
    let mut keys = 0u64;
    let mut count = |n: u64| {
        keys = n;
        per_key(n);
    };
    let out = match format {
        BaseFormat::Rdb => {
            opts.aof_base = true;
            rdb::write_keyspace(ks, opts, out, &mut count).map_err(werr)?
        }
        BaseFormat::Commands { timestamp } => {
            let mut out = out;
            write_commands(ks, &mut out, timestamp, &mut count).map_err(werr)?;
            out
        }
    };
    let sink = out.into_inner().map_err(|e| werr(e.into_error()))?;
    sink.file.sync_all().map_err(werr)?;
    drop(sink);
    std::fs::rename(temp, dest).map_err(|e| {
        format!(
            "Error moving temp append only file on the final destination: {}",
            strerror(&e)
        )
    })?;
    Ok(keys)
}

/// One RESP array header.
fn array(out: &mut impl Write, n: usize) -> io::Result<()> {
    write!(out, "*{n}\r\n")
}

fn bulk(out: &mut impl Write, b: &[u8]) -> io::Result<()> {
    write!(out, "${}\r\n", b.len())?;
    out.write_all(b)?;
    out.write_all(b"\r\n")
}

/// Writes the commands that rebuild `ks` (Redis's `rewriteAppendOnlyFileRio`).
pub fn write_commands(
    ks: &Keyspace,
    out: &mut impl Write,
    timestamp: bool,
    per_key: &mut dyn FnMut(u64),
) -> io::Result<()> {
    if timestamp {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        write!(out, "#TS:{now}\r\n")?;
    }
    let mut n = 0u64;
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        array(out, 2)?;
        bulk(out, b"SELECT")?;
        bulk(out, itoa::Buffer::new().format(i).as_bytes())?;
        for e in db.iter() {
            let key = e.key.as_bytes();
            write_value(out, key, &e.value)?;
            if e.has_ttl() {
                if let Some(at) = db.expire_of(key) {
                    array(out, 3)?;
                    bulk(out, b"PEXPIREAT")?;
                    bulk(out, key)?;
                    bulk(out, itoa::Buffer::new().format(at).as_bytes())?;
                }
            }
            n += 1;
            per_key(n);
        }
    }
    Ok(())
}

/// Emits `items` (each a group of `width` arguments) as `cmd key ...`
/// commands of at most [`ITEMS_PER_CMD`] items.
fn batched(
    out: &mut impl Write,
    cmd: &[u8],
    key: &[u8],
    width: usize,
    total: usize,
    items: &mut dyn Iterator<Item = Vec<Vec<u8>>>,
) -> io::Result<()> {
    let mut left = total;
    let mut in_cmd = 0;
    for item in items {
        if in_cmd == 0 {
            let now = left.min(ITEMS_PER_CMD);
            array(out, 2 + now * width)?;
            bulk(out, cmd)?;
            bulk(out, key)?;
            in_cmd = now;
        }
        for part in &item {
            bulk(out, part)?;
        }
        in_cmd -= 1;
        left = left.saturating_sub(1);
        if left == 0 {
            break;
        }
    }
    Ok(())
}

fn write_value(out: &mut impl Write, key: &[u8], v: &Value) -> io::Result<()> {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => {
            array(out, 3)?;
            bulk(out, b"SET")?;
            bulk(out, key)?;
            if let Some(mut s) = v.str_ref() {
                s.with(|b| bulk(out, b))?;
            }
            Ok(())
        }
        Value::List(l) => batched(
            out,
            b"RPUSH",
            key,
            1,
            l.len(),
            &mut l.iter().map(|el| vec![el.with_bytes(|b| b.to_vec())]),
        ),
        Value::Set(s) => batched(
            out,
            b"SADD",
            key,
            1,
            s.len(),
            &mut s.iter().map(|m| vec![m.with(|b| b.to_vec())]),
        ),
        Value::Hash(h) => batched(
            out,
            b"HMSET",
            key,
            2,
            h.len(),
            &mut h
                .iter()
                .map(|(f, v)| vec![f.with_bytes(|b| b.to_vec()), v.with_bytes(|b| b.to_vec())]),
        ),
        Value::ZSet(z) => {
            let mut items = Vec::with_capacity(z.len());
            z.for_each(|m, score| {
                items.push(vec![
                    crate::protocol::format_double(score).into_bytes(),
                    m.to_vec(),
                ]);
            });
            let total = items.len();
            batched(out, b"ZADD", key, 2, total, &mut items.into_iter())
        }
        Value::Stream(st) => write_stream(out, key, st),
    }
}

fn command(out: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    array(out, parts.len())?;
    for p in parts {
        bulk(out, p)?;
    }
    Ok(())
}

/// Redis's rewriteStreamObject: the entries as XADDs (an empty stream as
/// an XADD trimmed away), XSETID with the metadata, then each group with
/// XGROUP CREATE, its consumers' pending entries as XCLAIM ... FORCE and
/// consumers without any as XGROUP CREATECONSUMER.
fn write_stream(
    out: &mut impl Write,
    key: &[u8],
    st: &crate::keyspace::stream::Stream,
) -> io::Result<()> {
    use crate::keyspace::stream::StreamId;
    let mut res = Ok(());
    if st.length > 0 {
        st.walk(StreamId::MIN, StreamId::MAX, false, false, |e| {
            let mut parts: Vec<Vec<u8>> = vec![b"XADD".to_vec(), key.to_vec(), e.id.to_bytes()];
            for (f, v) in &e.fields {
                parts.push(f.to_vec());
                parts.push(v.to_vec());
            }
            let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
            res = command(out, &refs);
            res.is_ok()
        });
        res?;
    } else {
        command(out, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])?;
    }
    command(
        out,
        &[
            b"XSETID",
            key,
            &st.last_id.to_bytes(),
            b"ENTRIESADDED",
            st.entries_added.to_string().as_bytes(),
            b"MAXDELETEDID",
            &st.max_deleted_id.to_bytes(),
        ],
    )?;
    for (name, g) in &st.groups {
        command(
            out,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                &g.last_id.to_bytes(),
                b"ENTRIESREAD",
                g.entries_read.to_string().as_bytes(),
            ],
        )?;
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                command(out, &[b"XGROUP", b"CREATECONSUMER", key, name, cname])?;
                continue;
            }
            for id in &c.pel {
                let (time, count) = g
                    .pel
                    .get(id)
                    .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                command(
                    out,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        &id.to_bytes(),
                        b"TIME",
                        time.to_string().as_bytes(),
                        b"RETRYCOUNT",
                        count.to_string().as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                )?;
            }
        }
    }
    Ok(())
}
