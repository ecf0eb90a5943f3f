//! A listpack in Redis 7.0's exact byte format.
//!
//! # Overview
//!
//! A listpack is one contiguous buffer: a 6-byte header (total bytes, u32
//! little-endian; element count, u16 little-endian, 65535 meaning "count
//! it"), the entries, and a terminating `0xFF`. Each entry is an encoding
//! byte (plus length or value bytes), the string data if any, and a
//! *backlen*: the entry's size without the backlen, written big-endian in
//! 7-bit groups so it can be read backwards from the entry's last byte.
//! That makes walking in both directions possible without an index.
//!
//! Entry encodings (first byte):
//!
//! | bits        | meaning                                         |
//! |-------------|-------------------------------------------------|
//! | `0xxxxxxx`  | unsigned integer 0..=127                        |
//! | `10xxxxxx`  | string of up to 63 bytes                        |
//! | `110xxxxx`  | 13-bit signed integer, low byte follows         |
//! | `1110xxxx`  | string of up to 4095 bytes, low length byte follows |
//! | `0xF0`      | string, u32 LE length follows                   |
//! | `0xF1..F4`  | 16/24/32/64-bit signed integer, LE              |
//!
//! A string that is a canonical 64-bit integer is stored as an integer, as
//! Redis does, so the bytes here are the bytes Redis writes into an RDB
//! file for the same elements.
//!
//! # Trust
//!
//! Buffers built through this API are valid by construction. A buffer
//! from outside ([`Listpack::from_bytes`]) is validated entry by entry
//! before it is accepted, so every later walk can rely on the layout.

use std::fmt;

use crate::util::num::string2ll;

const HDR_SIZE: usize = 6;
const EOF: u8 = 0xFF;
const NUMELE_UNKNOWN: u16 = u16::MAX;

/// One element read from a listpack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpElem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpElem<'_> {
    /// The element's string form.
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            LpElem::Int(n) => itoa::Buffer::new().format(*n).as_bytes().to_vec(),
            LpElem::Str(s) => s.to_vec(),
        }
    }

    /// Calls `f` with the element's string form, without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            LpElem::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
            LpElem::Str(s) => f(s),
        }
    }

    /// Length of the element's string form.
    pub fn str_len(&self) -> usize {
        match self {
            LpElem::Int(n) => itoa::Buffer::new().format(*n).len(),
            LpElem::Str(s) => s.len(),
        }
    }

    /// Whether the element equals the string `s` (an integer element equals
    /// its canonical decimal form only).
    pub fn eq_bytes(&self, s: &[u8]) -> bool {
        match self {
            LpElem::Int(n) => string2ll(s) == Some(*n),
            LpElem::Str(b) => *b == s,
        }
    }
}

impl PartialEq<[u8]> for LpElem<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.eq_bytes(other)
    }
}

impl PartialEq<&[u8]> for LpElem<'_> {
    fn eq(&self, other: &&[u8]) -> bool {
        self.eq_bytes(other)
    }
}

/// Why [`Listpack::from_bytes`] refused a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListpackError {
    /// Shorter than a header and terminator.
    TooShort,
    /// The header's total differs from the buffer's length.
    TotalBytes,
    /// The last byte is not the terminator.
    Terminator,
    /// An entry with an unknown encoding, reaching past the end, or whose
    /// backlen does not match its size.
    Entry { offset: usize },
    /// The header's element count differs from the entries found.
    Count,
}

impl fmt::Display for ListpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListpackError::TooShort => write!(f, "listpack shorter than its header"),
            ListpackError::TotalBytes => write!(f, "listpack total bytes mismatch"),
            ListpackError::Terminator => write!(f, "listpack terminator missing"),
            ListpackError::Entry { offset } => {
                write!(f, "invalid listpack entry at offset {offset}")
            }
            ListpackError::Count => write!(f, "listpack element count mismatch"),
        }
    }
}

impl std::error::Error for ListpackError {}

/// A listpack: a compact, byte-exact sequence of strings and integers.
///
/// The value is one exact-size heap block holding Redis's bytes and nothing
/// else (16 bytes inline), so a small hash or sorted set costs what Redis's
/// listpack costs. The header's element count is exact below 65535; at or
/// above it the header says "unknown" and [`Listpack::len`] counts by
/// walking, as Redis's lpLength does.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: Box<[u8]>,
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for Listpack {
    fn default() -> Self {
        Listpack::new()
    }
}

/// The encoding head of an element: its first bytes (type, length or
/// integer value) and, for strings, the data that follows.
struct Head<'a> {
    bytes: [u8; 9],
    n: usize,
    data: &'a [u8],
}

impl<'a> Head<'a> {
    fn of(elem: LpElem<'a>) -> Head<'a> {
        let mut bytes = [0u8; 9];
        let (n, data) = match elem {
            LpElem::Int(v) => (encode_int(v, &mut bytes), &[][..]),
            LpElem::Str(s) => {
                let len = s.len();
                if len < 64 {
                    bytes[0] = 0x80 | len as u8;
                    (1, s)
                } else if len < 4096 {
                    bytes[0] = 0xE0 | (len >> 8) as u8;
                    bytes[1] = (len & 0xFF) as u8;
                    (2, s)
                } else {
                    let len = u32::try_from(len).expect("listpack strings are below 4 GiB");
                    bytes[0] = 0xF0;
                    bytes[1..5].copy_from_slice(&len.to_le_bytes());
                    (5, s)
                }
            }
        };
        Head { bytes, n, data }
    }

    /// Size of encoding plus data: the value the backlen records.
    fn entry_len(&self) -> usize {
        self.n + self.data.len()
    }
}

fn encode_int(v: i64, out: &mut [u8; 9]) -> usize {
    if (0..=127).contains(&v) {
        out[0] = v as u8;
        1
    } else if (-4096..=4095).contains(&v) {
        let u = (v as u64) & 0x1FFF;
        out[0] = 0xC0 | (u >> 8) as u8;
        out[1] = (u & 0xFF) as u8;
        2
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        out[0] = 0xF1;
        out[1..3].copy_from_slice(&(v as i16).to_le_bytes());
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        out[0] = 0xF2;
        out[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
        4
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        out[0] = 0xF3;
        out[1..5].copy_from_slice(&(v as i32).to_le_bytes());
        5
    } else {
        out[0] = 0xF4;
        out[1..9].copy_from_slice(&v.to_le_bytes());
        9
    }
}

/// The element a string is stored as: an integer when it is a canonical one.
fn elem_of(s: &[u8]) -> LpElem<'_> {
    match string2ll(s) {
        Some(n) => LpElem::Int(n),
        None => LpElem::Str(s),
    }
}

/// Bytes the backlen of an entry of `l` bytes takes.
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

fn encode_backlen(l: usize, out: &mut [u8; 5]) -> usize {
    let n = backlen_size(l);
    // Most significant group first; every byte after the first carries the
    // continuation bit, which a backwards reader sees first.
    for (i, slot) in out[..n].iter_mut().enumerate() {
        let shift = 7 * (n - 1 - i);
        let group = ((l >> shift) & 127) as u8;
        *slot = if i == 0 { group } else { group | 128 };
    }
    n
}

/// Decodes the entry starting at `off` within `buf[..end]`: the element and
/// the size of encoding plus data. `None` if it is malformed or overruns.
fn decode(buf: &[u8], off: usize, end: usize) -> Option<(LpElem<'_>, usize)> {
    let buf = buf.get(..end)?;
    let b = *buf.get(off)?;
    let bytes = |from: usize, n: usize| buf.get(off + from..off + from + n);
    let string = |from: usize, len: usize| {
        let s = bytes(from, len)?;
        Some((LpElem::Str(s), from + len))
    };
    match b {
        0x00..=0x7F => Some((LpElem::Int(b as i64), 1)),
        0x80..=0xBF => string(1, (b & 0x3F) as usize),
        0xC0..=0xDF => {
            let lo = *bytes(1, 1)?.first()?;
            let u = (((b & 0x1F) as i64) << 8) | lo as i64;
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            Some((LpElem::Int(v), 2))
        }
        0xE0..=0xEF => {
            let lo = *bytes(1, 1)?.first()?;
            string(2, (((b & 0x0F) as usize) << 8) | lo as usize)
        }
        0xF0 => {
            let l = bytes(1, 4)?;
            let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
            string(5, len)
        }
        0xF1 => {
            let v = bytes(1, 2)?;
            Some((LpElem::Int(i16::from_le_bytes([v[0], v[1]]) as i64), 3))
        }
        0xF2 => {
            let v = bytes(1, 3)?;
            // Place the 24 bits high and shift back to sign-extend.
            let u = i32::from_le_bytes([0, v[0], v[1], v[2]]) >> 8;
            Some((LpElem::Int(u as i64), 4))
        }
        0xF3 => {
            let v = bytes(1, 4)?;
            Some((
                LpElem::Int(i32::from_le_bytes([v[0], v[1], v[2], v[3]]) as i64),
                5,
            ))
        }
        0xF4 => {
            let v = bytes(1, 8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(v);
            Some((LpElem::Int(i64::from_le_bytes(a)), 9))
        }
        _ => None,
    }
}

/// The header count for `n` elements (saturating at "unknown").
fn header_count(n: usize) -> u16 {
    if n < NUMELE_UNKNOWN as usize {
        n as u16
    } else {
        NUMELE_UNKNOWN
    }
}

/// Writes the total-bytes field and the element count into `buf`'s header.
fn write_header(buf: &mut [u8], count: u16) {
    let total = u32::try_from(buf.len()).expect("listpacks are below 4 GiB");
    buf[0..4].copy_from_slice(&total.to_le_bytes());
    buf[4..6].copy_from_slice(&count.to_le_bytes());
}

/// Counts the entries of a valid listpack body by walking it.
fn walk_count(buf: &[u8]) -> usize {
    let end = buf.len() - 1;
    let mut off = HDR_SIZE;
    let mut n = 0;
    while off < end {
        let (_, l) = decode(buf, off, end).expect("listpack entries are valid");
        off += l + backlen_size(l);
        n += 1;
    }
    n
}

impl Listpack {
    /// An empty listpack.
    pub fn new() -> Listpack {
        let mut buf = vec![0u8; HDR_SIZE + 1];
        buf[HDR_SIZE] = EOF;
        write_header(&mut buf, 0);
        Listpack {
            buf: buf.into_boxed_slice(),
        }
    }

    /// Builds a listpack from the given strings, in order.
    pub fn from_elems<'a>(elems: impl IntoIterator<Item = &'a [u8]>) -> Listpack {
        let mut lp = Listpack::new();
        for e in elems {
            lp.push_back(e);
        }
        lp
    }

    /// Takes a listpack from outside (an RDB file, a RESTORE payload),
    /// validating the header, every entry's encoding, length and backlen,
    /// the terminator and the element count. A header count of "unknown"
    /// over fewer than 65535 entries is replaced by the exact count, as
    /// Redis's lpLength does on first use.
    pub fn from_bytes(buf: Vec<u8>) -> Result<Listpack, ListpackError> {
        if buf.len() < HDR_SIZE + 1 {
            return Err(ListpackError::TooShort);
        }
        let total = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if total != buf.len() {
            return Err(ListpackError::TotalBytes);
        }
        let end = buf.len() - 1;
        if buf[end] != EOF {
            return Err(ListpackError::Terminator);
        }
        let mut off = HDR_SIZE;
        let mut count = 0usize;
        while off < end {
            let bad = ListpackError::Entry { offset: off };
            let (_, l) = decode(&buf, off, end).ok_or(bad)?;
            let mut want = [0u8; 5];
            let bl = encode_backlen(l, &mut want);
            let got = buf.get(off + l..off + l + bl).ok_or(bad)?;
            if off + l + bl > end || got != &want[..bl] {
                return Err(bad);
            }
            off += l + bl;
            count += 1;
        }
        let numele = u16::from_le_bytes([buf[4], buf[5]]);
        if numele != NUMELE_UNKNOWN && numele as usize != count {
            return Err(ListpackError::Count);
        }
        let mut buf = buf.into_boxed_slice();
        write_header(&mut buf, header_count(count));
        Ok(Listpack { buf })
    }

    /// The header's element count (65535: "unknown", i.e. at least 65535).
    #[inline]
    fn numele(&self) -> u16 {
        u16::from_le_bytes([self.buf[4], self.buf[5]])
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        match self.numele() {
            NUMELE_UNKNOWN => walk_count(&self.buf),
            n => n as usize,
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HDR_SIZE + 1
    }

    /// Size of the serialized listpack in bytes.
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// The serialized listpack, as Redis would store it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Heap bytes owned (the block is always exactly the listpack's size).
    pub fn heap_size(&self) -> usize {
        crate::persistence::memory::size_class(self.buf.len())
    }

    /// Kept for callers that compact after a write: the block is always
    /// exact, so there is nothing to give back.
    pub fn shrink_to_fit(&mut self) {}

    /// Runs `f` on the bytes as a vector, then stores them back as an
    /// exact-size block with the header rewritten: the element count moves
    /// by `delta` (a known count stays exact below 65535; an unknown one
    /// is recounted after removals).
    fn edit<R>(&mut self, delta: isize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let old = self.numele();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let r = f(&mut v);
        let count = if old != NUMELE_UNKNOWN {
            header_count((old as isize + delta) as usize)
        } else if delta >= 0 {
            NUMELE_UNKNOWN
        } else {
            header_count(walk_count(&v))
        };
        write_header(&mut v, count);
        // Every growth reserved exactly, so this only reallocates after a
        // removal (to the smaller size, as Redis's lpDelete does).
        self.buf = v.into_boxed_slice();
        r
    }

    fn eof_offset(&self) -> usize {
        self.buf.len() - 1
    }

    /// The element at byte offset `off` and its size with backlen.
    fn entry(&self, off: usize) -> (LpElem<'_>, usize) {
        let (e, l) = decode(&self.buf, off, self.eof_offset()).expect("listpack entries are valid");
        (e, l + backlen_size(l))
    }

    // ----- walking by byte offset -----

    /// Offset of the first element.
    pub fn first(&self) -> Option<usize> {
        (!self.is_empty()).then_some(HDR_SIZE)
    }

    /// Offset of the last element.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.eof_offset())
    }

    /// Offset of the element after the one at `off`.
    pub fn next(&self, off: usize) -> Option<usize> {
        let n = off + self.entry(off).1;
        (n < self.eof_offset()).then_some(n)
    }

    /// Offset of the element before the one at `off` (or before the end,
    /// when `off` is the terminator's offset).
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off <= HDR_SIZE {
            return None;
        }
        let mut p = off - 1;
        let mut l = (self.buf[p] & 127) as usize;
        let mut shift = 7;
        while self.buf[p] & 128 != 0 {
            p -= 1;
            l |= ((self.buf[p] & 127) as usize) << shift;
            shift += 7;
        }
        Some(p - l)
    }

    /// The element at byte offset `off`.
    pub fn at(&self, off: usize) -> LpElem<'_> {
        self.entry(off).0
    }

    /// The element at byte offset `off` and the offset of the one after
    /// it, decoding the entry once ([`Self::at`] plus [`Self::next`]).
    #[inline]
    pub fn at_next(&self, off: usize) -> (LpElem<'_>, Option<usize>) {
        let (e, size) = self.entry(off);
        let n = off + size;
        (e, (n < self.eof_offset()).then_some(n))
    }

    /// Offset of element `i`, walking from the nearer end.
    pub fn seek(&self, i: usize) -> Option<usize> {
        let len = self.len();
        if i >= len {
            return None;
        }
        if i <= len / 2 {
            let mut off = HDR_SIZE;
            for _ in 0..i {
                off += self.entry(off).1;
            }
            Some(off)
        } else {
            let mut off = self.eof_offset();
            for _ in i..len {
                off = self.prev(off)?;
            }
            Some(off)
        }
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<LpElem<'_>> {
        self.seek(i).map(|off| self.at(off))
    }

    /// Elements front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            off: self.first(),
        }
    }

    /// Elements back to front.
    pub fn iter_rev(&self) -> RevIter<'_> {
        RevIter {
            lp: self,
            off: self.last(),
        }
    }

    /// Index of the first element equal to `s`.
    pub fn find(&self, s: &[u8]) -> Option<usize> {
        let target = elem_of(s);
        self.iter().position(|e| e == target)
    }

    // ----- changing -----

    /// Replaces the bytes in `range` by the entry for `elem`, changing the
    /// element count by `delta`.
    fn splice_elem(&mut self, range: std::ops::Range<usize>, elem: LpElem<'_>, delta: isize) {
        let head = Head::of(elem);
        let mut back = [0u8; 5];
        let bl = encode_backlen(head.entry_len(), &mut back);
        let new_len = head.entry_len() + bl;
        let old_len = range.end - range.start;
        self.edit(delta, |buf| {
            // The tail moves once (memmove), then the entry is copied in:
            // Vec::splice's generic path cost a visible share of LPUSH.
            let (start, end) = (range.start, range.end);
            let total = buf.len();
            if new_len > old_len {
                // Exact growth, as Redis reallocs a listpack to its new
                // size: doubling would leave up to half of every small
                // collection unused.
                buf.reserve_exact(new_len - old_len);
                buf.resize(total + new_len - old_len, 0);
                buf.copy_within(end..total, start + new_len);
            } else if new_len < old_len {
                buf.copy_within(end..total, start + new_len);
                buf.truncate(total - (old_len - new_len));
            }
            let (h, rest) = buf[start..start + new_len].split_at_mut(head.n);
            h.copy_from_slice(&head.bytes[..head.n]);
            let (d, b) = rest.split_at_mut(head.data.len());
            d.copy_from_slice(head.data);
            b.copy_from_slice(&back[..bl]);
        })
    }

    /// Inserts `elem` before the element at byte offset `off` (the
    /// terminator's offset appends). Returns the new element's offset.
    pub fn insert_elem_at_offset(&mut self, off: usize, elem: LpElem<'_>) -> usize {
        self.splice_elem(off..off, elem, 1);
        off
    }

    /// Inserts the string `s` before the element at byte offset `off`.
    pub fn insert_at_offset(&mut self, off: usize, s: &[u8]) -> usize {
        self.insert_elem_at_offset(off, elem_of(s))
    }

    /// Offset of the terminator, where [`Self::insert_at_offset`] appends.
    pub fn end_offset(&self) -> usize {
        self.eof_offset()
    }

    /// Replaces the element at byte offset `off` with `s`.
    pub fn replace_at_offset(&mut self, off: usize, s: &[u8]) {
        let size = self.entry(off).1;
        self.splice_elem(off..off + size, elem_of(s), 0);
    }

    /// Deletes the element at byte offset `off`; returns the offset of the
    /// element that followed it, if any.
    pub fn remove_at_offset(&mut self, off: usize) -> Option<usize> {
        let size = self.entry(off).1;
        self.edit(-1, |buf| {
            buf.drain(off..off + size);
        });
        (off < self.eof_offset()).then_some(off)
    }

    pub fn push_back(&mut self, s: &[u8]) {
        self.push_back_elem(elem_of(s));
    }

    pub fn push_front(&mut self, s: &[u8]) {
        self.insert_elem_at_offset(HDR_SIZE, elem_of(s));
    }

    /// Appends an element read from another listpack, keeping its integer
    /// or string form.
    pub fn push_back_elem(&mut self, elem: LpElem<'_>) {
        let head = Head::of(elem);
        let mut back = [0u8; 5];
        let bl = encode_backlen(head.entry_len(), &mut back);
        self.edit(1, |buf| {
            buf.pop();
            buf.reserve_exact(head.n + head.data.len() + bl + 1);
            buf.extend_from_slice(&head.bytes[..head.n]);
            buf.extend_from_slice(head.data);
            buf.extend_from_slice(&back[..bl]);
            buf.push(EOF);
        })
    }

    /// Inserts `s` so that it becomes element `i` (`i == len()` appends).
    /// Returns false, changing nothing, when `i > len()`.
    pub fn insert_at(&mut self, i: usize, s: &[u8]) -> bool {
        let off = if i == self.len() {
            self.eof_offset()
        } else {
            match self.seek(i) {
                Some(off) => off,
                None => return false,
            }
        };
        self.insert_at_offset(off, s);
        true
    }

    /// Replaces element `i`; false when there is none.
    pub fn replace_at(&mut self, i: usize, s: &[u8]) -> bool {
        match self.seek(i) {
            Some(off) => {
                self.replace_at_offset(off, s);
                true
            }
            None => false,
        }
    }

    /// Removes element `i`; false when there is none.
    pub fn remove_at(&mut self, i: usize) -> bool {
        match self.seek(i) {
            Some(off) => {
                self.remove_at_offset(off);
                true
            }
            None => false,
        }
    }

    /// Removes up to `n` elements starting at index `i`; returns how many.
    pub fn remove_range(&mut self, i: usize, n: usize) -> usize {
        let Some(start) = self.seek(i) else {
            return 0;
        };
        let len = self.len();
        let n = n.min(len - i);
        if n == 0 {
            return 0;
        }
        let end = if i + n == len {
            self.eof_offset()
        } else {
            let mut off = start;
            for _ in 0..n {
                off += self.entry(off).1;
            }
            off
        };
        self.edit(-(n as isize), |buf| {
            buf.drain(start..end);
        });
        n
    }

    /// Moves every element of `other` to the end of `self`. Entries are
    /// self-contained (their backlens are relative), so this copies bytes.
    pub fn append(&mut self, other: &Listpack) {
        let total = self.len() + other.len();
        let body = &other.buf[HDR_SIZE..other.eof_offset()];
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.pop();
        v.reserve_exact(body.len() + 1);
        v.extend_from_slice(body);
        v.push(EOF);
        write_header(&mut v, header_count(total));
        self.buf = v.into_boxed_slice();
    }

    /// Splits off the elements from index `i` on into a new listpack.
    pub fn split_off(&mut self, i: usize) -> Listpack {
        let Some(off) = self.seek(i) else {
            return Listpack::new();
        };
        let len = self.len();
        let mut tail = Vec::with_capacity(HDR_SIZE + self.buf.len() - off);
        tail.extend_from_slice(&[0; HDR_SIZE]);
        tail.extend_from_slice(&self.buf[off..]);
        write_header(&mut tail, header_count(len - i));
        let mut head = Vec::with_capacity(off + 1);
        head.extend_from_slice(&self.buf[..off]);
        head.push(EOF);
        write_header(&mut head, header_count(i));
        self.buf = head.into_boxed_slice();
        Listpack {
            buf: tail.into_boxed_slice(),
        }
    }
}

/// Front-to-back iterator.
pub struct Iter<'a> {
    lp: &'a Listpack,
    off: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpElem<'a>;

    fn next(&mut self) -> Option<LpElem<'a>> {
        let (e, next) = self.lp.at_next(self.off?);
        self.off = next;
        Some(e)
    }
}

/// Back-to-front iterator.
pub struct RevIter<'a> {
    lp: &'a Listpack,
    off: Option<usize>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = LpElem<'a>;

    fn next(&mut self) -> Option<LpElem<'a>> {
        let off = self.off?;
        self.off = self.lp.prev(off);
        Some(self.lp.at(off))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn empty_layout() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), &[7, 0, 0, 0, 0, 0, 0xFF]);
        assert_eq!(lp.len(), 0);
        assert_eq!(lp.first(), None);
        assert_eq!(lp.last(), None);
    }

    #[test]
    fn hello_one_minus_one_big() {
        let mut lp = Listpack::new();
        for s in [&b"hello"[..], b"1", b"-1", b"1234567890123"] {
            lp.push_back(s);
        }
        // 1234567890123 = 0x0000_011F_71FB_04CB.
        let want: &[u8] = &[
            29, 0, 0, 0, 4, 0, // header
            0x85, b'h', b'e', b'l', b'l', b'o', 6, // 6-bit string
            0x01, 1, // 7-bit uint
            0xDF, 0xFF, 2, // 13-bit int -1
            0xF4, 0xCB, 0x04, 0xFB, 0x71, 0x1F, 0x01, 0, 0, 9, // 64-bit int
            0xFF,
        ];
        assert_eq!(lp.as_bytes(), want);
        assert_eq!(lp.get(0), Some(LpElem::Str(b"hello")));
        assert_eq!(lp.get(1), Some(LpElem::Int(1)));
        assert_eq!(lp.get(2), Some(LpElem::Int(-1)));
        assert_eq!(lp.get(3), Some(LpElem::Int(1234567890123)));
        assert_eq!(lp.get(4), None);
        let back = Listpack::from_bytes(want.to_vec()).expect("valid");
        assert_eq!(back, lp);
    }

    #[test]
    fn integer_widths() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0xC0, 0x80]),
            (4095, &[0xCF, 0xFF]),
            (-4096, &[0xD0, 0x00]),
            (4096, &[0xF1, 0x00, 0x10]),
            (-4097, &[0xF1, 0xFF, 0xEF]),
            (32767, &[0xF1, 0xFF, 0x7F]),
            (32768, &[0xF2, 0x00, 0x80, 0x00]),
            (-8388608, &[0xF2, 0x00, 0x00, 0x80]),
            (8388608, &[0xF3, 0x00, 0x00, 0x80, 0x00]),
            (i32::MIN as i64, &[0xF3, 0x00, 0x00, 0x00, 0x80]),
            (i32::MAX as i64 + 1, &[0xF4, 0, 0, 0, 0x80, 0, 0, 0, 0]),
            (i64::MIN, &[0xF4, 0, 0, 0, 0, 0, 0, 0, 0x80]),
        ];
        for &(v, enc) in cases {
            let mut lp = Listpack::new();
            lp.push_back(v.to_string().as_bytes());
            let body = &lp.as_bytes()[HDR_SIZE..lp.byte_len() - 1];
            assert_eq!(&body[..enc.len()], enc, "{v}");
            assert_eq!(body[enc.len()..], [enc.len() as u8], "{v}");
            assert_eq!(lp.get(0), Some(LpElem::Int(v)), "{v}");
            assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()), Ok(lp));
        }
    }

    #[test]
    fn non_canonical_integers_stay_strings() {
        let mut lp = Listpack::new();
        for s in [&b"01"[..], b"+1", b"-0", b" 1", b"9223372036854775808", b""] {
            lp.push_back(s);
        }
        let got: Vec<_> = lp.iter().collect();
        assert!(got.iter().all(|e| matches!(e, LpElem::Str(_))));
        assert_eq!(strings(&lp)[1], b"+1");
        assert_eq!(lp.get(5), Some(LpElem::Str(b"")));
    }

    #[test]
    fn string_lengths_and_backlens() {
        for len in [63usize, 64, 127, 4095, 4096, 16383, 70000] {
            let s = vec![b'x'; len];
            let mut lp = Listpack::new();
            lp.push_back(&s);
            lp.push_back(b"tail");
            let b = lp.as_bytes();
            let (head, hn) = if len < 64 {
                (vec![0x80 | len as u8], 1)
            } else if len < 4096 {
                (vec![0xE0 | (len >> 8) as u8, len as u8], 2)
            } else {
                let mut h = vec![0xF0];
                h.extend_from_slice(&(len as u32).to_le_bytes());
                (h, 5)
            };
            assert_eq!(&b[HDR_SIZE..HDR_SIZE + hn], &head[..], "{len}");
            let l = hn + len;
            let mut back = [0u8; 5];
            let bl = encode_backlen(l, &mut back);
            let at = HDR_SIZE + l;
            assert_eq!(&b[at..at + bl], &back[..bl], "{len}");
            assert_eq!(lp.last().map(|o| lp.prev(o)), Some(Some(HDR_SIZE)));
            assert_eq!(lp.get(0), Some(LpElem::Str(&s)));
            assert_eq!(Listpack::from_bytes(b.to_vec()).map(|l| l.len()), Ok(2));
        }
    }

    #[test]
    fn backlen_bytes() {
        let enc = |l: usize| {
            let mut b = [0u8; 5];
            let n = encode_backlen(l, &mut b);
            b[..n].to_vec()
        };
        assert_eq!(enc(127), [127]);
        assert_eq!(enc(128), [1, 128]);
        assert_eq!(enc(16382), [127, 254]);
        assert_eq!(enc(16383), [0, 255, 255]);
        assert_eq!(enc(268435455), [0, 255, 255, 255, 255]);
    }

    #[test]
    fn edits() {
        let mut lp = Listpack::from_elems([&b"a"[..], b"b", b"c"]);
        lp.push_front(b"z");
        assert!(lp.insert_at(2, b"100"));
        assert!(lp.insert_at(5, b"end"));
        assert!(!lp.insert_at(7, b"no"));
        assert_eq!(strings(&lp), [&b"z"[..], b"a", b"100", b"b", b"c", b"end"]);
        assert!(lp.replace_at(1, &[b'y'; 300]));
        assert!(lp.replace_at(3, b"-5"));
        assert_eq!(lp.get(3), Some(LpElem::Int(-5)));
        assert_eq!(lp.find(b"100"), Some(2));
        assert_eq!(lp.find(b"-5"), Some(3));
        assert_eq!(lp.find(b"0100"), None);
        assert!(lp.remove_at(0));
        assert_eq!(lp.remove_range(1, 100), 4);
        assert_eq!(lp.len(), 1);
        assert_eq!(lp.remove_range(5, 1), 0);
        assert_eq!(strings(&lp), [vec![b'y'; 300]]);
        let rev: Vec<_> = Listpack::from_elems([&b"1"[..], b"x", b"3"])
            .iter_rev()
            .map(|e| e.to_vec())
            .collect();
        assert_eq!(rev, [&b"3"[..], b"x", b"1"]);
        assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()), Ok(lp));
    }

    #[test]
    fn split_and_append() {
        let elems: Vec<Vec<u8>> = (0..50).map(|i| format!("e{i}").into_bytes()).collect();
        let mut lp = Listpack::from_elems(elems.iter().map(|e| &e[..]));
        let whole = lp.clone();
        let tail = lp.split_off(20);
        assert_eq!(lp.len(), 20);
        assert_eq!(tail.len(), 30);
        assert_eq!(tail.get(0).map(|e| e.to_vec()), Some(b"e20".to_vec()));
        lp.append(&tail);
        assert_eq!(lp, whole);
    }

    #[test]
    fn count_saturates_at_65535() {
        let mut lp = Listpack::new();
        for _ in 0..65536 {
            lp.push_back(b"1");
        }
        assert_eq!(&lp.as_bytes()[4..6], &[0xFF, 0xFF]);
        assert_eq!(lp.len(), 65536);
        let back = Listpack::from_bytes(lp.as_bytes().to_vec()).expect("valid");
        assert_eq!(back.len(), 65536);
        lp.remove_range(0, 2);
        assert_eq!(&lp.as_bytes()[4..6], &65534u16.to_le_bytes());
    }

    #[test]
    fn block_is_exactly_the_bytes() {
        // The block holds exactly the listpack's bytes; heap_size reports
        // the allocator size class that block occupies.
        use crate::persistence::memory::size_class;
        let mut lp = Listpack::new();
        assert_eq!(lp.heap_size(), size_class(7));
        for i in 0..20 {
            lp.push_back(format!("field{i}").as_bytes());
            assert_eq!(lp.heap_size(), size_class(lp.byte_len()));
        }
        lp.replace_at(3, b"a-much-longer-replacement-value");
        lp.replace_at(3, b"x");
        lp.remove_range(2, 5);
        assert_eq!(lp.heap_size(), size_class(lp.byte_len()));
        assert_eq!(lp.len(), 15);
        assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()), Ok(lp));
    }

    #[test]
    fn unknown_count_is_normalized_and_recounted() {
        // A valid listpack whose header says "unknown" over 3 entries.
        let mut b = Listpack::from_elems([&b"a"[..], b"b", b"c"])
            .as_bytes()
            .to_vec();
        b[4] = 0xFF;
        b[5] = 0xFF;
        let lp = Listpack::from_bytes(b).expect("valid");
        assert_eq!(&lp.as_bytes()[4..6], &3u16.to_le_bytes());
        assert_eq!(lp.len(), 3);
        // Crossing 65535 upwards and back down by single removals.
        let mut lp = Listpack::new();
        for _ in 0..65534 {
            lp.push_back(b"7");
        }
        assert_eq!(&lp.as_bytes()[4..6], &65534u16.to_le_bytes());
        lp.push_back(b"7");
        assert_eq!(&lp.as_bytes()[4..6], &[0xFF, 0xFF]);
        assert_eq!(lp.len(), 65535);
        lp.push_front(b"8");
        assert_eq!(lp.len(), 65536);
        assert!(lp.remove_at(0));
        assert_eq!(&lp.as_bytes()[4..6], &[0xFF, 0xFF]);
        lp.remove_at_offset(HDR_SIZE);
        assert_eq!(&lp.as_bytes()[4..6], &65534u16.to_le_bytes());
        assert_eq!(lp.len(), 65534);
        let tail = lp.split_off(100);
        assert_eq!((lp.len(), tail.len()), (100, 65434));
        lp.append(&tail);
        assert_eq!(lp.len(), 65534);
        assert_eq!(lp.get(65533), Some(LpElem::Int(7)));
    }

    #[test]
    fn hostile_input() {
        let good = Listpack::from_elems([&b"hello"[..], b"300", b"x"])
            .as_bytes()
            .to_vec();
        assert_eq!(Listpack::from_bytes(vec![]), Err(ListpackError::TooShort));
        let mut b = good.clone();
        b[0] += 1;
        assert_eq!(Listpack::from_bytes(b), Err(ListpackError::TotalBytes));
        let mut b = good.clone();
        *b.last_mut().unwrap() = 0;
        assert_eq!(Listpack::from_bytes(b), Err(ListpackError::Terminator));
        let mut b = good.clone();
        b[4] = 2;
        assert_eq!(Listpack::from_bytes(b), Err(ListpackError::Count));
        let mut b = good.clone();
        b[4] = 0xFF;
        b[5] = 0xFF;
        assert_eq!(Listpack::from_bytes(b).map(|l| l.len()), Ok(3));
        // A string length that runs past the end.
        let mut b = good.clone();
        b[HDR_SIZE] = 0xBF;
        assert!(matches!(
            Listpack::from_bytes(b),
            Err(ListpackError::Entry { .. })
        ));
        // A wrong backlen.
        let mut b = good.clone();
        b[HDR_SIZE + 6] = 5;
        assert_eq!(
            Listpack::from_bytes(b),
            Err(ListpackError::Entry { offset: HDR_SIZE })
        );
        // Unknown encoding byte.
        let mut b = good.clone();
        b[HDR_SIZE] = 0xF5;
        assert!(matches!(
            Listpack::from_bytes(b),
            Err(ListpackError::Entry { .. })
        ));
        // A terminator in the middle.
        let mut b = good.clone();
        b[HDR_SIZE] = 0xFF;
        assert!(matches!(
            Listpack::from_bytes(b),
            Err(ListpackError::Entry { .. })
        ));
        // A 32-bit string length near u32::MAX.
        let mut b = vec![0u8; HDR_SIZE];
        b.extend_from_slice(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 5, 0xFF]);
        let total = b.len() as u32;
        b[0..4].copy_from_slice(&total.to_le_bytes());
        b[4] = 1;
        assert!(matches!(
            Listpack::from_bytes(b),
            Err(ListpackError::Entry { .. })
        ));
        // Every truncation and every single-byte corruption is either
        // refused or yields a listpack that walks cleanly.
        for cut in 0..good.len() {
            let mut b = good[..cut].to_vec();
            if b.len() >= 4 {
                let t = b.len() as u32;
                b[0..4].copy_from_slice(&t.to_le_bytes());
            }
            let _ = Listpack::from_bytes(b).map(|l| l.iter().count());
        }
        for i in 0..good.len() {
            for v in [0u8, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xF0, 0xF4, 0xFF] {
                let mut b = good.clone();
                b[i] = v;
                if let Ok(l) = Listpack::from_bytes(b) {
                    assert_eq!(l.iter().count(), l.len());
                    assert_eq!(l.iter_rev().count(), l.len());
                }
            }
        }
    }
}
