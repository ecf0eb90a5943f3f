//! The hash value type, with Redis 7.0's two encodings:
//!
//! * `listpack`: field, value, field, value... in one [`Listpack`] buffer
//!   (one allocation per hash, the bytes Redis would write to an RDB file),
//!   while the hash has at most `hash-max-listpack-entries` fields and no
//!   field or value longer than `hash-max-listpack-value` bytes;
//! * `hashtable`: a [`Table`] of (field, value) pairs, whose reversed-hash
//!   cursor gives HSCAN Redis's guarantee.
//!
//! A hash converts to `hashtable` when a write crosses either limit and
//! never converts back (as in Redis).

use std::fmt;

use rand::Rng;

use super::listpack::{Listpack, LpElem};
use super::sbytes::SBytes;
use super::table::{Keyed, Table};

/// One field of a `hashtable`-encoded hash.
pub struct Field {
    pub name: SBytes,
    pub value: SBytes,
}

impl Keyed for Field {
    #[inline]
    fn key(&self) -> &[u8] {
        self.name.as_bytes()
    }
}

/// The conversion thresholds (`hash-max-listpack-entries` / `-value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

/// A hash value.
pub enum Hash {
    Listpack(Listpack),
    Table(Box<Table<Field>>),
}

fn new_table() -> Box<Table<Field>> {
    Box::new(Table::new(rand::random()))
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::Listpack(Listpack::new())
    }
}

impl Clone for Hash {
    fn clone(&self) -> Hash {
        match self {
            Hash::Listpack(lp) => Hash::Listpack(lp.clone()),
            Hash::Table(t) => {
                let mut n = new_table();
                for f in t.iter() {
                    n.insert(Field {
                        name: f.name.clone(),
                        value: f.value.clone(),
                    });
                }
                Hash::Table(n)
            }
        }
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hash")
            .field("encoding", &self.encoding())
            .field("len", &self.len())
            .finish()
    }
}

/// Offset of the value of `field` in a listpack hash.
fn lp_find(lp: &Listpack, field: &[u8]) -> Option<usize> {
    let mut off = lp.first();
    while let Some(f) = off {
        let (name, v) = lp.at_next(f);
        let v = v.expect("fields come with values");
        if name.eq_bytes(field) {
            return Some(v);
        }
        off = lp.next(v);
    }
    None
}

/// Iterator over (field, value) pairs.
pub enum Iter<'a> {
    Listpack(super::listpack::Iter<'a>),
    Table(Box<dyn Iterator<Item = &'a Field> + 'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpElem<'a>, LpElem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => {
                let f = it.next()?;
                let v = it.next().expect("fields come with values");
                Some((f, v))
            }
            Iter::Table(it) => it.next().map(|f| {
                (
                    LpElem::Str(f.name.as_bytes()),
                    LpElem::Str(f.value.as_bytes()),
                )
            }),
        }
    }
}

impl Hash {
    /// Number of fields.
    /// The `hashtable` encoding's table (the forkless snapshot encodes it
    /// a segment at a time).
    pub fn as_table(&self) -> Option<&Table<Field>> {
        match self {
            Hash::Table(t) => Some(t),
            Hash::Listpack(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Listpack(lp) => lp.heap_size(),
            Hash::Table(t) => {
                t.overhead_bytes()
                    + t.iter()
                        .map(|f| f.name.heap_size() + f.value.heap_size())
                        .sum::<usize>()
            }
        }
    }

    /// A `listpack` hash over `lp`, which holds field, value pairs (an even
    /// count: the caller checks, as every walk relies on it).
    pub fn from_listpack(lp: Listpack) -> Hash {
        debug_assert!(lp.len().is_multiple_of(2));
        Hash::Listpack(lp)
    }

    /// An empty `hashtable`-encoded hash.
    pub fn new_table() -> Hash {
        Hash::Table(new_table())
    }

    /// The listpack's bytes, when that is the encoding (RDB encoder).
    pub fn listpack_bytes(&self) -> Option<&[u8]> {
        match self {
            Hash::Listpack(lp) => Some(lp.as_bytes()),
            Hash::Table(_) => None,
        }
    }

    /// Converts to `hashtable`.
    pub fn convert_to_table(&mut self) {
        if let Hash::Listpack(lp) = self {
            let mut t = new_table();
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                t.insert(Field {
                    name: SBytes::from_vec(f.to_vec()),
                    value: SBytes::from_vec(v.to_vec()),
                });
            }
            *self = Hash::Table(t);
        }
    }

    /// Converts when any of `args` is longer than a listpack may hold, as
    /// Redis's hashTypeTryConversion does before a write.
    pub fn prepare_write<'a>(&mut self, args: impl IntoIterator<Item = &'a [u8]>, lim: Limits) {
        if matches!(self, Hash::Listpack(_)) && args.into_iter().any(|a| a.len() > lim.max_value) {
            self.convert_to_table();
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<LpElem<'_>> {
        match self {
            Hash::Listpack(lp) => lp_find(lp, field).map(|off| lp.at(off)),
            Hash::Table(t) => t.get(field).map(|f| LpElem::Str(f.value.as_bytes())),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => lp_find(lp, field).is_some(),
            Hash::Table(t) => t.get(field).is_some(),
        }
    }

    /// Sets `field` to `value`; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        if let Hash::Listpack(lp) = self {
            if field.len() > lim.max_value || value.len() > lim.max_value {
                self.convert_to_table();
            } else {
                let new = match lp_find(lp, field) {
                    Some(off) => {
                        lp.replace_at_offset(off, value);
                        false
                    }
                    None => {
                        lp.push_back(field);
                        lp.push_back(value);
                        true
                    }
                };
                if self.len() > lim.max_entries {
                    self.convert_to_table();
                }
                return new;
            }
        }
        match self {
            Hash::Table(t) => match t.get_mut(field) {
                Some(f) => {
                    f.value = SBytes::new(value);
                    false
                }
                None => {
                    t.insert(Field {
                        name: SBytes::new(field),
                        value: SBytes::new(value),
                    });
                    true
                }
            },
            Hash::Listpack(_) => unreachable!("converted above"),
        }
    }

    /// Gives a listpack's spare capacity back after a write command, so a
    /// small hash costs what its bytes need (Redis reallocates exactly).
    pub fn compact(&mut self) {
        if let Hash::Listpack(lp) = self {
            if lp.heap_size() > lp.byte_len() {
                lp.shrink_to_fit();
            }
        }
    }

    /// Deletes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(lp) => match lp_find(lp, field) {
                Some(v) => {
                    let f = lp.prev(v).expect("a value follows its field");
                    lp.remove_at_offset(f);
                    lp.remove_at_offset(f);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.remove(field).is_some(),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match self {
            Hash::Listpack(lp) => Iter::Listpack(lp.iter()),
            Hash::Table(t) => Iter::Table(Box::new(t.iter())),
        }
    }

    /// A uniformly chosen (field, value); None when empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(LpElem<'_>, LpElem<'_>)> {
        match self {
            Hash::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let off = lp.seek(2 * rng.gen_range(0..n))?;
                let v = lp.next(off)?;
                Some((lp.at(off), lp.at(v)))
            }
            Hash::Table(t) => t.random(rng).map(|f| {
                (
                    LpElem::Str(f.name.as_bytes()),
                    LpElem::Str(f.value.as_bytes()),
                )
            }),
        }
    }

    /// One HSCAN step: calls `f` for about `count` fields from `cursor`;
    /// returns the next cursor (0 at the end). A listpack is returned whole
    /// in one step, as Redis does.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(LpElem<'_>, LpElem<'_>),
    ) -> u64 {
        match self {
            Hash::Listpack(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            Hash::Table(t) => t.scan(cursor, count, |x| {
                f(
                    LpElem::Str(x.name.as_bytes()),
                    LpElem::Str(x.value.as_bytes()),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    #[test]
    fn listpack_set_get_remove() {
        let mut h = Hash::default();
        assert!(h.set(b"a", b"1", LIM));
        assert!(h.set(b"b", b"x", LIM));
        assert!(!h.set(b"a", b"22", LIM));
        assert_eq!(h.get(b"a"), Some(LpElem::Int(22)));
        assert_eq!(h.get(b"b"), Some(LpElem::Str(b"x")));
        assert_eq!(h.get(b"1"), None, "values are not fields");
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.len(), 1);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_on_count_and_length() {
        let mut h = Hash::default();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", LIM);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", LIM);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert_eq!(h.get(b"f0"), Some(LpElem::Str(b"v")));

        let mut h = Hash::default();
        h.set(b"a", b"123456789", LIM);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::default();
        h.set(b"a", b"1", LIM);
        h.prepare_write([&b"123456789"[..]], LIM);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(LpElem::Str(b"1")));
    }
}
