//! Values and their encodings.
//!
//! Strings keep Redis's three encodings: `int` (a canonical 64-bit integer),
//! `embstr` (short, written once) and `raw` (long, or modified in place by
//! APPEND / SETRANGE and so given room to grow).

use super::hash::Hash;
use super::list::List;
use super::sbytes::SBytes;
use super::set::Set;
use super::stream::Stream;
use super::zset::ZSet;
use crate::util::num::string2ll;

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A value in the keyspace.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string that is a canonical integer (`int` encoding).
    Int(i64),
    /// A string written whole: `embstr` up to [`EMBSTR_MAX`] bytes, else `raw`.
    Str(SBytes),
    /// A string modified in place (APPEND, SETRANGE): `raw`, growable.
    Raw(Box<Vec<u8>>),
    List(Box<List>),
    /// Inline: a listpack hash is one heap block, as in Redis.
    Hash(Hash),
    Set(Box<Set>),
    /// Inline: a listpack sorted set is one heap block, as in Redis.
    ZSet(ZSet),
    Stream(Box<Stream>),
}

/// The type names TYPE and SCAN TYPE use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Hash => "hash",
            Kind::Stream => "stream",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<Kind> {
        let lower = name.to_ascii_lowercase();
        Some(match &lower[..] {
            b"string" => Kind::String,
            b"list" => Kind::List,
            b"set" => Kind::Set,
            b"zset" => Kind::ZSet,
            b"hash" => Kind::Hash,
            b"stream" => Kind::Stream,
            _ => return None,
        })
    }
}

/// A string's bytes, borrowed or formatted from an integer.
pub enum StrRef<'a> {
    Bytes(&'a [u8]),
    Int(itoa::Buffer, i64),
}

impl StrRef<'_> {
    pub fn with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrRef::Bytes(b) => f(b),
            StrRef::Int(buf, n) => f(buf.format(*n).as_bytes()),
        }
    }
}

impl Value {
    /// A string value from bytes, with the encoding Redis would choose on SET.
    pub fn string(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = string2ll(bytes) {
                return Value::Int(n);
            }
        }
        Value::Str(SBytes::new(bytes))
    }

    pub fn string_from_vec(v: Vec<u8>) -> Value {
        if v.len() <= 20 {
            if let Some(n) = string2ll(&v) {
                return Value::Int(n);
            }
        }
        Value::Str(SBytes::from_vec(v))
    }

    /// A hash value.
    pub fn from_hash(h: Hash) -> Value {
        Value::Hash(h)
    }

    /// A sorted-set value.
    pub fn from_zset(z: ZSet) -> Value {
        Value::ZSet(z)
    }

    /// A set value.
    pub fn from_set(s: Set) -> Value {
        Value::Set(Box::new(s))
    }

    /// A list value.
    pub fn from_list(l: List) -> Value {
        Value::List(Box::new(l))
    }

    pub fn from_stream(s: Stream) -> Value {
        Value::Stream(Box::new(s))
    }

    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Value::Stream(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_hash(&self) -> Option<&Hash> {
        match self {
            Value::Hash(h) => Some(h),
            _ => None,
        }
    }

    pub fn as_set(&self) -> Option<&Set> {
        match self {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_zset(&self) -> Option<&ZSet> {
        match self {
            Value::ZSet(z) => Some(z),
            _ => None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => Kind::String,
            Value::List(_) => Kind::List,
            Value::Hash(_) => Kind::Hash,
            Value::Set(_) => Kind::Set,
            Value::ZSet(_) => Kind::ZSet,
            Value::Stream(_) => Kind::Stream,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// The string's bytes, if this is a string.
    pub fn str_ref(&self) -> Option<StrRef<'_>> {
        match self {
            Value::Int(n) => Some(StrRef::Int(itoa::Buffer::new(), *n)),
            Value::Str(s) => Some(StrRef::Bytes(s.as_bytes())),
            Value::Raw(v) => Some(StrRef::Bytes(v.as_slice())),
            _ => None,
        }
    }

    /// The string's bytes as an owned vector.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        self.str_ref().map(|mut r| r.with(|b| b.to_vec()))
    }

    /// Length of the string form.
    pub fn str_len(&self) -> Option<usize> {
        match self {
            Value::Int(n) => Some(itoa::Buffer::new().format(*n).len()),
            Value::Str(s) => Some(s.len()),
            Value::Raw(v) => Some(v.len()),
            _ => None,
        }
    }

    /// Turns this string into the growable `raw` form and returns its buffer.
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        let bytes = match self {
            Value::Raw(_) => None,
            Value::List(_) | Value::Hash(_) | Value::Set(_) | Value::ZSet(_) | Value::Stream(_) => {
                return None
            }
            Value::Int(n) => Some(itoa::Buffer::new().format(*n).as_bytes().to_vec()),
            Value::Str(s) => Some(s.as_bytes().to_vec()),
        };
        if let Some(b) = bytes {
            *self = Value::Raw(Box::new(b));
        }
        match self {
            Value::Raw(v) => Some(v),
            _ => None,
        }
    }

    /// Heap bytes owned by the value (for MEMORY USAGE and lazyfree decisions).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }

    /// Number of allocations freeing this value takes, as Redis's lazyfree
    /// "effort" (1 for strings, the element count for collections).
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            // Redis's lazyfreeGetFreeEffort: nodes plus consumer groups'
            // pending entries.
            Value::Stream(s) => {
                s.node_count() + s.groups.values().map(|g| 1 + g.pel.len()).sum::<usize>()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_24_bytes() {
        use std::mem::size_of;
        // A listpack is one pointer and a length; a hash or sorted set in
        // either encoding fits in it, so both live inline in the value and
        // a small one costs one heap block (its listpack), as in Redis.
        assert_eq!(size_of::<super::super::listpack::Listpack>(), 16);
        assert_eq!(size_of::<Hash>(), 16);
        assert_eq!(size_of::<ZSet>(), 16);
        assert_eq!(size_of::<Value>(), 24);
    }

    #[test]
    fn constructors_keep_encodings() {
        use super::super::list::List;
        let h = Value::from_hash(Hash::default());
        assert_eq!((h.kind(), h.encoding()), (Kind::Hash, "listpack"));
        let z = Value::from_zset(ZSet::for_new_key(
            1,
            super::super::zset::Limits {
                max_entries: 128,
                max_value: 64,
            },
        ));
        assert_eq!((z.kind(), z.encoding()), (Kind::ZSet, "listpack"));
        let s = Value::from_set(Set::default());
        assert_eq!((s.kind(), s.encoding()), (Kind::Set, "intset"));
        let l = Value::from_list(List::new());
        assert_eq!((l.kind(), l.encoding()), (Kind::List, "quicklist"));
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Value::string(b"12345").encoding(), "int");
        assert_eq!(Value::string(b"-9223372036854775808").encoding(), "int");
        assert_eq!(Value::string(b"9223372036854775808").encoding(), "embstr");
        assert_eq!(Value::string(b"012").encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 45]).encoding(), "raw");
        let mut v = Value::string(b"10");
        v.make_raw().unwrap().extend_from_slice(b"x");
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.to_bytes().unwrap(), b"10x");
    }
}
