//! The set value type, with Redis 7.0's two encodings:
//!
//! * `intset`: every member is a canonical 64-bit integer and there are at
//!   most `set-max-intset-entries` of them; a sorted array in one allocation
//!   ([`IntSet`]).
//! * `hashtable`: anything else; a [`Dict`] of members: Redis's chained
//!   table with incremental rehashing, whose reversed-binary cursor gives
//!   SSCAN Redis's guarantee (a member present for the whole scan is
//!   returned at least once) and Redis's order.
//!
//! A set converts from `intset` to `hashtable` when a non-integer member is
//! added or it grows past the limit; it never converts back (as in Redis).

use std::fmt;

use rand::Rng;

use super::dict::Dict;
use super::intset::IntSet;
use super::sbytes::SBytes;
use super::table::Keyed;
use crate::util::num::string2ll;

/// A member of a `hashtable`-encoded set.
pub struct Member(pub SBytes);

impl Keyed for Member {
    #[inline]
    fn key(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A member as stored: an integer (intset) or bytes (hashtable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// Calls `f` with the member's string form.
    pub fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
            Elem::Str(s) => f(s),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with(|b| b.to_vec())
    }
}

enum Enc {
    Ints(IntSet),
    Table(Dict<Member>),
}

/// A set value.
pub struct Set {
    enc: Enc,
}

fn new_table() -> Dict<Member> {
    Dict::new(rand::random())
}

impl Default for Set {
    fn default() -> Set {
        Set::new_intset()
    }
}

impl Clone for Set {
    fn clone(&self) -> Set {
        match &self.enc {
            Enc::Ints(i) => Set {
                enc: Enc::Ints(i.clone()),
            },
            Enc::Table(t) => {
                let mut n = Dict::with_capacity(rand::random(), t.len());
                for m in t.iter() {
                    let _ = n.insert_new(Member(m.0.clone()));
                }
                Set { enc: Enc::Table(n) }
            }
        }
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Set")
            .field("encoding", &self.encoding())
            .field("len", &self.len())
            .finish()
    }
}

/// Iterator over a set's members.
pub enum Iter<'a> {
    Ints(&'a IntSet, usize),
    Table(std::slice::Iter<'a, Member>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            Iter::Ints(s, i) => {
                if *i < s.len() {
                    *i += 1;
                    Some(Elem::Int(s.get(*i - 1)))
                } else {
                    None
                }
            }
            Iter::Table(it) => it.next().map(|m| Elem::Str(m.0.as_bytes())),
        }
    }
}

impl Set {
    /// An empty `intset`-encoded set.
    pub fn new_intset() -> Set {
        Set {
            enc: Enc::Ints(IntSet::new()),
        }
    }

    /// An empty `hashtable`-encoded set.
    pub fn new_table() -> Set {
        Set {
            enc: Enc::Table(new_table()),
        }
    }

    /// A set over an intset read from outside (RDB, RESTORE).
    pub fn from_intset(i: IntSet) -> Set {
        Set { enc: Enc::Ints(i) }
    }

    /// An empty set in the encoding Redis picks for its first member.
    pub fn for_member(m: &[u8]) -> Set {
        if string2ll(m).is_some() {
            Set::new_intset()
        } else {
            Set::new_table()
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Ints(i) => i.len(),
            Enc::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.enc {
            Enc::Ints(_) => "intset",
            Enc::Table(_) => "hashtable",
        }
    }

    /// The `hashtable` encoding's dict (the forkless snapshot encodes it
    /// a run of entries at a time).
    pub fn as_table(&self) -> Option<&Dict<Member>> {
        match &self.enc {
            Enc::Table(t) => Some(t),
            Enc::Ints(_) => None,
        }
    }

    /// The intset, when that is the encoding (for the RDB encoder).
    pub fn as_intset(&self) -> Option<&IntSet> {
        match &self.enc {
            Enc::Ints(i) => Some(i),
            Enc::Table(_) => None,
        }
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        match &self.enc {
            Enc::Ints(i) => i.heap_size(),
            Enc::Table(t) => t.overhead_bytes() + t.iter().map(|m| m.0.heap_size()).sum::<usize>(),
        }
    }

    /// Converts to `hashtable` (a non-integer member, or too many).
    pub fn convert_to_table(&mut self) {
        if let Enc::Ints(i) = &self.enc {
            // Sized for the members up front, as Redis's setTypeConvert.
            let mut t = Dict::with_capacity(rand::random(), i.len());
            let mut buf = itoa::Buffer::new();
            for v in i.iter() {
                let _ = t.insert_new(Member(SBytes::new(buf.format(v).as_bytes())));
            }
            self.enc = Enc::Table(t);
        }
    }

    /// Adds `m`; false when already a member. `max_intset` is
    /// `set-max-intset-entries`.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if let Enc::Ints(i) = &mut self.enc {
            match string2ll(m) {
                Some(v) => {
                    if !i.insert(v) {
                        return false;
                    }
                    if i.len() > max_intset {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match &mut self.enc {
            Enc::Table(t) => t.insert_with(m, || Member(SBytes::new(m))),
            Enc::Ints(_) => unreachable!("converted above"),
        }
    }

    /// Adds a member given as an [`Elem`] (avoids formatting integers
    /// between two intsets).
    pub fn add_elem(&mut self, e: Elem<'_>, max_intset: usize) -> bool {
        match (&mut self.enc, e) {
            (Enc::Ints(i), Elem::Int(v)) => {
                if !i.insert(v) {
                    return false;
                }
                if i.len() > max_intset {
                    self.convert_to_table();
                }
                true
            }
            _ => e.with(|b| self.add(b, max_intset)),
        }
    }

    /// Removes `m`; false when it was not a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.enc {
            Enc::Ints(i) => string2ll(m).is_some_and(|v| i.remove(v)),
            Enc::Table(t) => t.remove(m).is_some(),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.enc {
            Enc::Ints(i) => string2ll(m).is_some_and(|v| i.contains(v)),
            Enc::Table(t) => t.get(m).is_some(),
        }
    }

    /// Whether the member `e` (from another set) is in this one.
    pub fn contains_elem(&self, e: Elem<'_>) -> bool {
        match (&self.enc, e) {
            (Enc::Ints(i), Elem::Int(v)) => i.contains(v),
            (Enc::Ints(i), Elem::Str(b)) => string2ll(b).is_some_and(|v| i.contains(v)),
            (Enc::Table(t), e) => e.with(|b| t.get(b).is_some()),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match &self.enc {
            Enc::Ints(i) => Iter::Ints(i, 0),
            Enc::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// A uniformly chosen member; None when empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<Elem<'_>> {
        match &self.enc {
            Enc::Ints(i) if i.is_empty() => None,
            Enc::Ints(i) => Some(Elem::Int(i.get(rng.gen_range(0..i.len())))),
            Enc::Table(t) => t.random(rng).map(|m| Elem::Str(m.0.as_bytes())),
        }
    }

    /// Removes and returns a uniformly chosen member.
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<Vec<u8>> {
        match &mut self.enc {
            Enc::Ints(i) if i.is_empty() => None,
            Enc::Ints(i) => {
                let v = i.remove_at(rng.gen_range(0..i.len()));
                Some(itoa::Buffer::new().format(v).as_bytes().to_vec())
            }
            Enc::Table(t) => t.pop_random(rng).map(|m| m.0.into_vec()),
        }
    }

    /// One SSCAN step: calls `f` for about `count` members from `cursor` and
    /// returns the next cursor (0 at the end). An intset is returned whole
    /// in one step, as Redis does for its compact encodings.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Elem<'_>)) -> u64 {
        match &self.enc {
            Enc::Ints(i) => {
                for v in i.iter() {
                    f(Elem::Int(v));
                }
                0
            }
            Enc::Table(t) => t.scan(cursor, count, |m| f(Elem::Str(m.0.as_bytes()))),
        }
    }

    /// `n` rehash steps of the `hashtable` encoding, which Redis takes on
    /// lookups and random picks (reads too), so that a table keeps moving
    /// to its new size while it is used.
    pub fn rehash_steps(&mut self, n: usize) {
        if let Enc::Table(t) = &mut self.enc {
            for _ in 0..n {
                t.step();
            }
        }
    }

    /// DEBUG HTSTATS-KEY text; None for an intset.
    pub fn htstats(&self) -> Option<String> {
        match &self.enc {
            Enc::Table(t) => Some(t.stats()),
            Enc::Ints(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_converts_on_string_member() {
        let mut s = Set::for_member(b"1");
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"1", 512));
        assert!(s.add(b"2", 512));
        assert!(!s.add(b"2", 512));
        assert!(s.add(b"a", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"a"));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn intset_converts_past_limit() {
        let mut s = Set::new_intset();
        for i in 0..4 {
            s.add(i.to_string().as_bytes(), 4);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"4", 4);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn non_canonical_integers_are_strings() {
        let mut s = Set::new_intset();
        s.add(b"1", 512);
        assert!(!s.contains(b"01"));
        assert!(!s.remove(b"+1"));
        s.add(b"01", 512);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn pop_random_empties() {
        let mut rng = rand::thread_rng();
        for mut s in [Set::new_intset(), Set::new_table()] {
            for i in 0..20 {
                s.add(format!("{i}").as_bytes(), 512);
            }
            let mut seen = std::collections::HashSet::new();
            while let Some(m) = s.pop_random(&mut rng) {
                assert!(seen.insert(m));
            }
            assert_eq!(seen.len(), 20);
        }
    }
}
