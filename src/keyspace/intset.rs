//! Redis's intset: a sorted array of distinct integers stored at the
//! narrowest width (16, 32 or 64 bits) that holds every member.
//!
//! Members are kept little-endian in one buffer, as Redis lays them out, so
//! the RDB encoder can write the contents directly after the header. Adding
//! a member that does not fit the current width upgrades the whole set; the
//! width never shrinks (as in Redis).

/// A sorted set of integers in one allocation.
#[derive(Clone, Debug, Default)]
pub struct IntSet {
    /// Bytes per member: 2, 4 or 8 (0 only while empty and never used).
    width: u8,
    data: Vec<u8>,
}

/// The narrowest width that holds `v`.
fn width_of(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet {
            width: 2,
            data: Vec::new(),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes per member (Redis's `encoding` field).
    pub fn width(&self) -> u8 {
        self.width
    }

    /// The member bytes, little-endian at [`IntSet::width`] each.
    pub fn contents(&self) -> &[u8] {
        &self.data
    }

    /// The intset as Redis serializes it: width (u32 LE), member count
    /// (u32 LE), then the members.
    pub fn to_blob(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(8 + self.data.len());
        b.extend_from_slice(&(self.width as u32).to_le_bytes());
        b.extend_from_slice(&(self.len() as u32).to_le_bytes());
        b.extend_from_slice(&self.data);
        b
    }

    /// Takes a serialized intset from outside (RDB, RESTORE): the width
    /// must be 2, 4 or 8, the size must match the count, and the set must
    /// not be empty. With `deep`, members must also be strictly ascending
    /// (otherwise searches would miss members, though nothing breaks).
    pub fn from_blob(blob: &[u8], deep: bool) -> Option<IntSet> {
        let head = blob.get(..8)?;
        let width = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let count = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if !matches!(width, 2 | 4 | 8) || count == 0 {
            return None;
        }
        if count.checked_mul(width as usize)? != blob.len() - 8 {
            return None;
        }
        let is = IntSet {
            width: width as u8,
            data: blob[8..].to_vec(),
        };
        if deep && (1..count).any(|i| is.get(i - 1) >= is.get(i)) {
            return None;
        }
        Some(is)
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        crate::persistence::memory::size_class(self.data.capacity())
    }

    /// The member at position `i` in ascending order.
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        let b = &self.data[i * w..i * w + w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes(b.try_into().expect("8-byte member")),
        }
    }

    fn put(&mut self, i: usize, v: i64) {
        let w = self.width as usize;
        let dst = &mut self.data[i * w..i * w + w];
        match w {
            2 => dst.copy_from_slice(&(v as i16).to_le_bytes()),
            4 => dst.copy_from_slice(&(v as i32).to_le_bytes()),
            _ => dst.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// Binary search: `Ok(position)` when present, else where it would go.
    pub fn search(&self, v: i64) -> Result<usize, usize> {
        if width_of(v) > self.width {
            // Too wide to be here: it sorts before or after everything.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let m = self.get(mid);
            if m == v {
                return Ok(mid);
            } else if m < v {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; false when it was already present.
    pub fn insert(&mut self, v: i64) -> bool {
        let need = width_of(v);
        if need > self.width {
            self.upgrade(need);
        }
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let w = self.width as usize;
        let at = pos * w;
        self.data
            .splice(at..at, std::iter::repeat_n(0, w))
            .for_each(drop);
        self.put(pos, v);
        true
    }

    /// Removes `v`; false when it was absent.
    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(pos) => {
                self.remove_at(pos);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes and returns the member at position `i`.
    pub fn remove_at(&mut self, i: usize) -> i64 {
        let v = self.get(i);
        let w = self.width as usize;
        self.data.drain(i * w..i * w + w);
        if self.data.capacity() > 2 * self.data.len() + 64 {
            self.data.shrink_to_fit();
        }
        v
    }

    fn upgrade(&mut self, width: u8) {
        let n = self.len();
        let old = std::mem::take(&mut self.data);
        let old_set = IntSet {
            width: self.width,
            data: old,
        };
        self.width = width;
        self.data = vec![0; n * width as usize];
        for i in 0..n {
            self.put(i, old_set.get(i));
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    pub fn max(&self) -> Option<i64> {
        (!self.is_empty()).then(|| self.get(self.len() - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_upgrades() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 70_000]);
        assert!(s.contains(-3));
        assert!(!s.contains(4));
        assert!(!s.contains(i64::MAX));
        assert!(s.remove(5));
        assert!(!s.remove(5));
        assert_eq!(s.len(), 3);
        assert_eq!(s.max(), Some(70_000));
    }

    #[test]
    fn wide_values_miss_narrow_sets() {
        let mut s = IntSet::new();
        s.insert(1);
        assert_eq!(s.search(1 << 40), Err(1));
        assert_eq!(s.search(-(1 << 40)), Err(0));
    }
}
