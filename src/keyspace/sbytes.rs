//! A compact byte string for keys and short string values.
//!
//! Up to [`INLINE_CAP`] bytes live inside the value itself (no allocation),
//! longer strings in one exact-size heap block. The type is 24 bytes, so an
//! entry of key + value stays within a small allocator size class: memory per
//! key is the main cost of a cache.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest string stored without a heap allocation.
pub const INLINE_CAP: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, data: [u8; INLINE_CAP] },
    Heap(Box<[u8]>),
}

/// An immutable byte string, inline when short.
#[derive(Clone)]
pub struct SBytes(Repr);

impl SBytes {
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE_CAP {
            let mut data = [0u8; INLINE_CAP];
            data[..bytes.len()].copy_from_slice(bytes);
            SBytes(Repr::Inline {
                len: bytes.len() as u8,
                data,
            })
        } else {
            SBytes(Repr::Heap(bytes.into()))
        }
    }

    pub fn from_vec(v: Vec<u8>) -> Self {
        if v.len() <= INLINE_CAP {
            Self::new(&v)
        } else {
            SBytes(Repr::Heap(v.into_boxed_slice()))
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, data } => &data[..*len as usize],
            Repr::Heap(b) => b,
        }
    }

    /// Bytes this string owns on the heap, in the allocator's size class
    /// (0 when inline).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => crate::persistence::memory::size_class(b.len()),
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { len, data } => data[..len as usize].to_vec(),
            Repr::Heap(b) => b.into_vec(),
        }
    }
}

impl Deref for SBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for SBytes {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for SBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for SBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for SBytes {}

impl PartialEq<[u8]> for SBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl Hash for SBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialOrd for SBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for SBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl From<&[u8]> for SBytes {
    fn from(b: &[u8]) -> Self {
        SBytes::new(b)
    }
}

impl From<&str> for SBytes {
    fn from(s: &str) -> Self {
        SBytes::new(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_24_bytes() {
        assert_eq!(std::mem::size_of::<SBytes>(), 24);
    }

    #[test]
    fn inline_and_heap_round_trip() {
        for n in [0usize, 1, 21, 22, 23, 100] {
            assert_eq!(crate::persistence::memory::size_class(100), 112);
            let v: Vec<u8> = (0..n as u8).collect();
            let s = SBytes::new(&v);
            assert_eq!(s.as_bytes(), &v[..]);
            // A heap string costs its allocator size class (100 -> 112).
            let heap = if n <= INLINE_CAP {
                0
            } else {
                crate::persistence::memory::size_class(n)
            };
            assert_eq!(s.heap_size(), heap);
            assert_eq!(SBytes::from_vec(v.clone()).into_vec(), v);
        }
    }
}
