//! The replication backlog: the last `repl-backlog-size` bytes of the
//! stream, so that a replica whose link broke can continue from its offset
//! (PSYNC → `+CONTINUE`) instead of a full sync.
//!
//! Offsets are Redis's: `master_repl_offset` counts every byte ever fed;
//! the first byte held is `first_offset()` (1-based, so a fresh backlog at
//! offset N starts at N + 1); a replica that applied up to offset O asks for
//! O + 1, which the backlog serves when `first_offset() <= O + 1 <=
//! end() + 1`.
//!
//! The buffer grows as bytes arrive, up to its size, then wraps: an idle
//! primary with a large `repl-backlog-size` holds only what was written.

/// A ring of the stream's most recent bytes.
pub struct Backlog {
    buf: Vec<u8>,
    size: usize,
    /// Where the next byte goes once the ring is full.
    idx: usize,
    /// Bytes of history held (at most `size`).
    histlen: usize,
    /// The stream offset of the last byte held (master_repl_offset).
    end: u64,
}

impl Backlog {
    /// An empty backlog of `size` bytes (at least 1) whose stream is at
    /// `offset`.
    pub fn new(size: usize, offset: u64) -> Backlog {
        Backlog {
            buf: Vec::new(),
            size: size.max(1),
            idx: 0,
            histlen: 0,
            end: offset,
        }
    }

    /// `repl_backlog_size`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// `repl_backlog_histlen`.
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// `repl_backlog_first_byte_offset`.
    pub fn first_offset(&self) -> u64 {
        self.end + 1 - self.histlen as u64
    }

    /// The offset of the last byte fed.
    #[cfg(test)]
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Bytes allocated (INFO's mem_replication_backlog).
    pub fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends stream bytes, dropping the oldest beyond the size.
    pub fn feed(&mut self, mut data: &[u8]) {
        self.end += data.len() as u64;
        self.histlen = (self.histlen + data.len()).min(self.size);
        if data.len() >= self.size {
            // Only the tail survives.
            self.buf.clear();
            self.buf.extend_from_slice(&data[data.len() - self.size..]);
            self.idx = 0;
            return;
        }
        if self.buf.len() < self.size {
            let n = (self.size - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.idx = self.buf.len() % self.size;
        }
        while !data.is_empty() {
            let n = (self.size - self.idx).min(data.len());
            self.buf[self.idx..self.idx + n].copy_from_slice(&data[..n]);
            self.idx = (self.idx + n) % self.size;
            data = &data[n..];
        }
    }

    /// The bytes from stream offset `from` (1-based, as PSYNC asks) to the
    /// end, as at most two slices; None when `from` is not held.
    pub fn since(&self, from: u64) -> Option<(&[u8], &[u8])> {
        if from < self.first_offset() || from > self.end + 1 {
            return None;
        }
        let skip = (from - self.first_offset()) as usize;
        let want = self.histlen - skip;
        if want == 0 {
            return Some((&[], &[]));
        }
        // Index of the oldest byte held.
        let oldest = if self.buf.len() < self.size {
            0
        } else {
            self.idx
        };
        let start = (oldest + skip) % self.buf.len();
        let first = want.min(self.buf.len() - start);
        Some((&self.buf[start..start + first], &self.buf[..want - first]))
    }

    /// CONFIG SET repl-backlog-size: keeps the newest history that fits.
    pub fn resize(&mut self, size: usize) {
        let size = size.max(1);
        if size == self.size {
            return;
        }
        let mut kept = Vec::with_capacity(self.histlen.min(size));
        if let Some((a, b)) = self.since(self.first_offset()) {
            kept.extend_from_slice(a);
            kept.extend_from_slice(b);
        }
        let drop = kept.len().saturating_sub(size);
        kept.drain(..drop);
        self.histlen = kept.len();
        self.size = size;
        self.idx = kept.len() % size;
        self.buf = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::Backlog;

    fn tail(b: &Backlog, from: u64) -> Option<Vec<u8>> {
        b.since(from).map(|(x, y)| [x, y].concat())
    }

    #[test]
    fn a_fresh_backlog_serves_its_own_offset_only() {
        let b = Backlog::new(8, 100);
        assert_eq!(b.first_offset(), 101);
        assert_eq!(b.histlen(), 0);
        assert_eq!(tail(&b, 101), Some(vec![]));
        assert_eq!(tail(&b, 100), None);
        assert_eq!(tail(&b, 102), None);
    }

    #[test]
    fn feeding_past_the_size_wraps_and_keeps_the_newest_bytes() {
        let mut b = Backlog::new(8, 0);
        b.feed(b"abcde");
        assert_eq!(tail(&b, 1), Some(b"abcde".to_vec()));
        assert_eq!(tail(&b, 3), Some(b"cde".to_vec()));
        b.feed(b"fghij");
        // Offsets 3..=10 are held: "cdefghij".
        assert_eq!(b.first_offset(), 3);
        assert_eq!(b.end(), 10);
        assert_eq!(tail(&b, 2), None);
        assert_eq!(tail(&b, 3), Some(b"cdefghij".to_vec()));
        assert_eq!(tail(&b, 9), Some(b"ij".to_vec()));
        assert_eq!(tail(&b, 11), Some(vec![]));
        assert_eq!(tail(&b, 12), None);
        b.feed(b"klmnopqrstuvwxyz");
        assert_eq!(tail(&b, 19), Some(b"stuvwxyz".to_vec()));
        assert_eq!(b.allocated(), 8);
        b.feed(b"1");
        assert_eq!(tail(&b, 20), Some(b"tuvwxyz1".to_vec()));
        assert_eq!(tail(&b, 26), Some(b"z1".to_vec()));
    }

    #[test]
    fn resizing_keeps_the_newest_history_that_fits() {
        let mut b = Backlog::new(8, 0);
        b.feed(b"0123456789");
        b.resize(4);
        assert_eq!(b.first_offset(), 7);
        assert_eq!(tail(&b, 7), Some(b"6789".to_vec()));
        b.feed(b"ab");
        assert_eq!(tail(&b, 9), Some(b"89ab".to_vec()));
        b.resize(16);
        b.feed(b"cdefgh");
        assert_eq!(tail(&b, 9), Some(b"89abcdefgh".to_vec()));
    }
}
