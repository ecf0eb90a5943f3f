//! The encoding half: lengths, strings (integer, LZF, raw), doubles and
//! values, each appended to a byte buffer exactly as Redis 7.0's rdb.c
//! writes them.

use super::{lzf, opcode, rtype};
use crate::keyspace::stream::Stream;
use crate::keyspace::value::Value;
use crate::util::num::string2ll;

/// `rdbSaveLen`: 6-bit, 14-bit, 32-bit (big-endian) or 64-bit lengths.
pub fn len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(((n >> 8) as u8) | 0x40);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbEncodeInteger`: the 8/16/32-bit integer string encodings.
fn int_encoding(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC1);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC2);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Strings longer than this are tried with LZF (when compression is on).
pub const LZF_MIN: usize = 20;

/// `rdbSaveRawString`: an integer encoding when the bytes are a small
/// canonical integer, LZF when asked and it saves at least four bytes,
/// else length and bytes.
pub fn string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = string2ll(s) {
            if int_encoding(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > LZF_MIN {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            len(out, c.len() as u64);
            len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `rdbSaveLongLongAsStringObject`: an `int`-encoded string value.
pub fn int_string(out: &mut Vec<u8>, v: i64) {
    if !int_encoding(out, v) {
        let mut b = itoa::Buffer::new();
        let s = b.format(v).as_bytes();
        len(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}

/// The RDB type byte of a value, as Redis 7.0 picks it from the encoding.
pub fn type_of(v: &Value) -> u8 {
    if let Some(s) = v.as_set() {
        return if s.as_intset().is_some() {
            rtype::SET_INTSET
        } else {
            rtype::SET
        };
    }
    if let Some(z) = v.as_zset() {
        return if z.listpack_bytes().is_some() {
            rtype::ZSET_LISTPACK
        } else {
            rtype::ZSET_2
        };
    }
    if let Some(h) = v.as_hash() {
        return if h.listpack_bytes().is_some() {
            rtype::HASH_LISTPACK
        } else {
            rtype::HASH
        };
    }
    if v.as_list().is_some() {
        return rtype::LIST_QUICKLIST_2;
    }
    if v.as_stream().is_some() {
        return rtype::STREAM_LISTPACKS_2;
    }
    rtype::STRING
}

/// `rdbSaveObjectType` + `rdbSaveObject`.
pub fn value(out: &mut Vec<u8>, v: &Value, compress: bool) {
    out.push(type_of(v));
    body(out, v, compress);
}

/// `rdbSaveObject`: the value without its type byte.
pub fn body(out: &mut Vec<u8>, v: &Value, compress: bool) {
    if let Value::Int(n) = v {
        int_string(out, *n);
    } else if let Some(mut s) = v.str_ref() {
        s.with(|b| string(out, b, compress));
    } else if let Some(l) = v.as_list() {
        len(out, l.node_count() as u64);
        for (plain, bytes) in l.nodes() {
            // QUICKLIST_NODE_CONTAINER_PLAIN = 1, _PACKED = 2.
            len(out, if plain { 1 } else { 2 });
            string(out, bytes, compress);
        }
    } else if let Some(s) = v.as_set() {
        match s.as_intset() {
            Some(is) => string(out, &is.to_blob(), compress),
            None => {
                len(out, s.len() as u64);
                for m in s.iter() {
                    m.with(|b| string(out, b, compress));
                }
            }
        }
    } else if let Some(z) = v.as_zset() {
        match z.listpack_bytes() {
            Some(lp) => string(out, lp, compress),
            None => {
                len(out, z.len() as u64);
                // Highest first, so a loader inserts at the skiplist's head.
                z.visit(0, z.len(), true, |m, score| {
                    string(out, m, compress);
                    out.extend_from_slice(&score.to_le_bytes());
                });
            }
        }
    } else if let Some(h) = v.as_hash() {
        match h.listpack_bytes() {
            Some(lp) => string(out, lp, compress),
            None => {
                len(out, h.len() as u64);
                for (f, val) in h.iter() {
                    f.with_bytes(|b| string(out, b, compress));
                    val.with_bytes(|b| string(out, b, compress));
                }
            }
        }
    } else if let Some(s) = v.as_stream() {
        stream(out, s, compress);
    }
}

/// A stream as RDB_TYPE_STREAM_LISTPACKS_2: the nodes (master ID as a
/// 16-byte big-endian string, then the listpack), the metadata, and the
/// consumer groups with their pending entries and consumers.
fn stream(out: &mut Vec<u8>, s: &Stream, compress: bool) {
    len(out, s.nodes.len() as u64);
    for (id, lp) in &s.nodes {
        string(out, &id.encode(), compress);
        string(out, lp.as_bytes(), compress);
    }
    len(out, s.length);
    len(out, s.last_id.ms);
    len(out, s.last_id.seq);
    len(out, s.first_id.ms);
    len(out, s.first_id.seq);
    len(out, s.max_deleted_id.ms);
    len(out, s.max_deleted_id.seq);
    len(out, s.entries_added);
    len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        string(out, name, compress);
        len(out, g.last_id.ms);
        len(out, g.last_id.seq);
        len(out, g.entries_read as u64);
        len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id.encode());
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            len(out, nack.delivery_count);
        }
        len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            string(out, cname, compress);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.encode());
            }
        }
    }
}

/// An AUX field.
pub fn aux(out: &mut Vec<u8>, key: &[u8], val: &[u8], compress: bool) {
    out.push(opcode::AUX);
    string(out, key, compress);
    string(out, val, compress);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let enc = |n| {
            let mut v = Vec::new();
            len(&mut v, n);
            v
        };
        assert_eq!(enc(10), [10]);
        assert_eq!(enc(300), [0x41, 0x2C]);
        assert_eq!(enc(70000), [0x80, 0, 1, 0x11, 0x70]);
        assert_eq!(enc(1 << 40), [0x81, 0, 0, 1, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn strings() {
        let enc = |s: &[u8], c| {
            let mut v = Vec::new();
            string(&mut v, s, c);
            v
        };
        assert_eq!(enc(b"-1", true), [0xC0, 0xFF]);
        assert_eq!(enc(b"1000", true), [0xC1, 0xE8, 0x03]);
        assert_eq!(enc(b"100000", true), [0xC2, 0xA0, 0x86, 1, 0]);
        assert_eq!(enc(b"01", true), [2, b'0', b'1']);
        assert_eq!(enc(b"12345678901", true)[0], 11, "beyond 32 bits");
        let long = [b'a'; 30];
        assert_eq!(enc(&long, true)[0], 0xC3);
        assert_eq!(enc(&long, false)[0], 30);
        let mut v = Vec::new();
        int_string(&mut v, 1 << 40);
        assert_eq!(v, b"\x0d1099511627776");
    }
}
