//! The list value type: a quicklist of listpack nodes, as Redis 7.0.
//!
//! # Overview
//!
//! Redis 7.0 has one list encoding, `quicklist` (the `listpack` list
//! encoding arrived in 7.2): a sequence of nodes, each a [`Listpack`]
//! bounded by `list-max-listpack-size` (negative: a byte class, -1..-5 for
//! 4/8/16/32/64 KB; positive: an entry count, still capped at 8 KB), plus
//! *plain* nodes that hold one element at or above the packed threshold
//! (1 GB, changed by `DEBUG QUICKLIST-PACKED-THRESHOLD`) as raw bytes. A
//! small list is a quicklist of one node, which costs about what Redis's
//! does. Nodes are kept in a `VecDeque`, so a push or pop at either end is
//! O(1) and finding an index walks node counts, not elements.
//!
//! `list-compress-depth` is accepted but nodes are not LZF-compressed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::listpack::{Listpack, LpElem};

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

impl End {
    pub fn other(self) -> End {
        match self {
            End::Head => End::Tail,
            End::Tail => End::Head,
        }
    }
}

/// Where LINSERT puts the new element relative to the pivot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    Before,
    After,
}

const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);

/// Sets the size from which an element gets a plain node of its own
/// (DEBUG QUICKLIST-PACKED-THRESHOLD). 0 restores the default; false when
/// `sz` is at or near 4 GB.
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 {
        DEFAULT_PACKED_THRESHOLD
    } else {
        sz as usize
    };
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

fn is_large(sz: usize) -> bool {
    sz >= PACKED_THRESHOLD.load(Ordering::Relaxed)
}

/// Byte limits for negative fill values -1..-5.
const SIZE_CLASSES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest multi-element node when the fill is an entry count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Bytes an entry adds to a listpack beyond its data, over-estimated.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

/// A `list-max-listpack-size` value, clamped as Redis's quicklistSetFill.
#[derive(Clone, Copy, Debug)]
pub struct Fill(i32);

impl Fill {
    pub fn new(v: i64) -> Fill {
        Fill(v.clamp(-5, 1 << 15) as i32)
    }

    fn meets_size_class(self, sz: usize) -> bool {
        if self.0 >= 0 {
            return false;
        }
        match SIZE_CLASSES.get((-self.0 - 1) as usize) {
            Some(&limit) => sz <= limit,
            None => false,
        }
    }

    /// Whether a node of `bytes` bytes and `count` entries may take one
    /// more element of `sz` bytes (Redis's _quicklistNodeAllowInsert).
    fn allows_insert(self, bytes: usize, count: usize, sz: usize) -> bool {
        let new_sz = bytes + sz + SIZE_ESTIMATE_OVERHEAD;
        if self.meets_size_class(new_sz) {
            true
        } else if new_sz > SIZE_SAFETY_LIMIT {
            false
        } else {
            (count as i64) < self.0 as i64
        }
    }

    /// Whether two nodes may merge (Redis's _quicklistNodeAllowMerge).
    fn allows_merge(self, a: &Listpack, b: &Listpack) -> bool {
        let merged = (a.byte_len() + b.byte_len()).saturating_sub(11);
        if self.meets_size_class(merged) {
            true
        } else if merged > SIZE_SAFETY_LIMIT {
            false
        } else {
            ((a.len() + b.len()) as i64) <= self.0 as i64
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Packed(Listpack),
    /// One large element, stored as is.
    Plain(Vec<u8>),
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.len(),
            Node::Plain(_) => 1,
        }
    }

    fn heap_size(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.heap_size(),
            Node::Plain(v) => crate::persistence::memory::size_class(v.capacity()),
        }
    }

    fn single(s: &[u8]) -> Node {
        if is_large(s.len()) {
            Node::Plain(s.to_vec())
        } else {
            let mut lp = Listpack::new();
            lp.push_back(s);
            Node::Packed(lp)
        }
    }

    /// Whether this node may take `s` (never a plain node, never a large
    /// element).
    fn allows(&self, fill: Fill, s: &[u8]) -> bool {
        match self {
            Node::Packed(lp) => {
                !is_large(s.len()) && fill.allows_insert(lp.byte_len(), lp.len(), s.len())
            }
            Node::Plain(_) => false,
        }
    }
}

/// A list value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The encoding OBJECT ENCODING reports: Redis 7.0 lists are always
    /// quicklists.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        crate::persistence::memory::size_class(self.nodes.capacity() * std::mem::size_of::<Node>())
            + self.nodes.iter().map(Node::heap_size).sum::<usize>()
    }

    /// Number of nodes (DEBUG QUICKLIST-style introspection and tests).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Each node as a listpack's bytes or a plain element, head first.
    pub fn nodes(&self) -> impl Iterator<Item = (bool, &[u8])> {
        self.nodes.iter().map(|n| match n {
            Node::Packed(lp) => (false, lp.as_bytes()),
            Node::Plain(v) => (true, &v[..]),
        })
    }

    /// Appends a node read from outside (RDB): a listpack or a plain element.
    pub fn push_listpack_node(&mut self, lp: Listpack) {
        if !lp.is_empty() {
            self.len += lp.len();
            self.nodes.push_back(Node::Packed(lp));
        }
    }

    /// Appends a plain node read from outside (RDB): one element stored as is.
    pub fn push_plain_node(&mut self, v: Vec<u8>) {
        self.len += 1;
        self.nodes.push_back(Node::Plain(v));
    }

    pub fn push(&mut self, end: End, s: &[u8], fill: Fill) {
        self.len += 1;
        let node = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        if let Some(n) = node {
            if n.allows(fill, s) {
                if let Node::Packed(lp) = n {
                    match end {
                        End::Head => lp.push_front(s),
                        End::Tail => lp.push_back(s),
                    }
                }
                return;
            }
        }
        let n = Node::single(s);
        match end {
            End::Head => self.nodes.push_front(n),
            End::Tail => self.nodes.push_back(n),
        }
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        if self.nodes.is_empty() {
            return None;
        }
        let ni = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let out = match &mut self.nodes[ni] {
            Node::Plain(v) => std::mem::take(v),
            Node::Packed(lp) => {
                let off = match end {
                    End::Head => lp.first(),
                    End::Tail => lp.last(),
                }
                .expect("nodes are never empty");
                let v = lp.at(off).to_vec();
                lp.remove_at_offset(off);
                v
            }
        };
        self.len -= 1;
        if self.nodes[ni].len() == 0 || matches!(self.nodes[ni], Node::Plain(_)) {
            self.nodes.remove(ni);
        }
        Some(out)
    }

    /// Normalizes a Redis index (negative from the tail).
    pub fn index(&self, i: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if i < 0 { len + i } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding element `i` and the index within it.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            let mut rest = i;
            for (ni, n) in self.nodes.iter().enumerate() {
                if rest < n.len() {
                    return Some((ni, rest));
                }
                rest -= n.len();
            }
            None
        } else {
            let mut from_end = self.len - 1 - i;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_end < n.len() {
                    return Some((ni, n.len() - 1 - from_end));
                }
                from_end -= n.len();
            }
            None
        }
    }

    /// Element `i` (0-based from the head).
    pub fn get(&self, i: usize) -> Option<LpElem<'_>> {
        let (ni, k) = self.locate(i)?;
        match &self.nodes[ni] {
            Node::Packed(lp) => lp.get(k),
            Node::Plain(v) => Some(LpElem::Str(v)),
        }
    }

    /// Replaces element `i`; false when out of range.
    pub fn set(&mut self, i: usize, s: &[u8], fill: Fill) -> bool {
        let Some((ni, k)) = self.locate(i) else {
            return false;
        };
        let large = is_large(s.len());
        match &mut self.nodes[ni] {
            Node::Plain(v) if large => {
                v.clear();
                v.extend_from_slice(s);
            }
            Node::Packed(lp) if !large => {
                lp.replace_at(k, s);
                self.split_if_oversized(ni, fill);
            }
            _ => {
                self.remove_range(i, 1);
                self.insert_at(i, s, fill);
            }
        }
        true
    }

    /// Splits node `ni` in halves while it is above its size limit.
    fn split_if_oversized(&mut self, ni: usize, fill: Fill) {
        let Node::Packed(lp) = &mut self.nodes[ni] else {
            return;
        };
        if lp.len() < 2 || fill.allows_insert(lp.byte_len(), lp.len() - 1, 0) {
            return;
        }
        let tail = lp.split_off(lp.len() / 2);
        self.nodes.insert(ni + 1, Node::Packed(tail));
        self.split_if_oversized(ni + 1, fill);
        self.split_if_oversized(ni, fill);
    }

    /// Inserts `s` so that it becomes element `i` (`i == len()` appends).
    pub fn insert_at(&mut self, i: usize, s: &[u8], fill: Fill) {
        if i == 0 {
            return self.push(End::Head, s, fill);
        }
        if i >= self.len {
            return self.push(End::Tail, s, fill);
        }
        let (ni, k) = self.locate(i).expect("0 < i < len");
        self.len += 1;
        // At a node boundary the previous node's tail is as good a place.
        if k == 0 && self.nodes[ni - 1].allows(fill, s) {
            if let Node::Packed(lp) = &mut self.nodes[ni - 1] {
                lp.push_back(s);
            }
            return;
        }
        if self.nodes[ni].allows(fill, s) {
            if let Node::Packed(lp) = &mut self.nodes[ni] {
                lp.insert_at(k, s);
            }
            return;
        }
        if k == 0 {
            self.nodes.insert(ni, Node::single(s));
            return;
        }
        // Inside a full packed node: split it and put the element between.
        let Node::Packed(lp) = &mut self.nodes[ni] else {
            unreachable!("a plain node holds one element, so k == 0");
        };
        let tail = lp.split_off(k);
        self.nodes.insert(ni + 1, Node::Packed(tail));
        let left_allows = self.nodes[ni].allows(fill, s);
        let right_allows = self.nodes[ni + 1].allows(fill, s);
        if left_allows {
            if let Node::Packed(lp) = &mut self.nodes[ni] {
                lp.push_back(s);
            }
        } else if right_allows {
            if let Node::Packed(lp) = &mut self.nodes[ni + 1] {
                lp.push_front(s);
            }
        } else {
            self.nodes.insert(ni + 1, Node::single(s));
        }
        self.try_merge(ni + 1, fill);
        self.try_merge(ni, fill);
    }

    /// Merges node `ni` with its successor when the fill allows.
    fn try_merge(&mut self, ni: usize, fill: Fill) {
        if ni + 1 >= self.nodes.len() {
            return;
        }
        if let (Node::Packed(a), Node::Packed(b)) = (&self.nodes[ni], &self.nodes[ni + 1]) {
            if fill.allows_merge(a, b) {
                let Some(Node::Packed(b)) = self.nodes.remove(ni + 1) else {
                    unreachable!("matched as packed above");
                };
                if let Node::Packed(a) = &mut self.nodes[ni] {
                    a.append(&b);
                }
            }
        }
    }

    /// LINSERT: inserts `s` before or after the first element equal to
    /// `pivot`. False when there is no such element.
    pub fn insert_at_pivot(&mut self, pivot: &[u8], w: Where, s: &[u8], fill: Fill) -> bool {
        let Some(i) = self.iter().position(|e| e == pivot) else {
            return false;
        };
        let at = match w {
            Where::Before => i,
            Where::After => i + 1,
        };
        self.insert_at(at, s, fill);
        true
    }

    /// Removes up to `n` elements from index `start`; returns how many.
    pub fn remove_range(&mut self, start: usize, n: usize) -> usize {
        if start >= self.len {
            return 0;
        }
        let n = n.min(self.len - start);
        let Some((mut ni, mut k)) = self.locate(start) else {
            return 0;
        };
        let mut left = n;
        while left > 0 {
            let node_len = self.nodes[ni].len();
            if k == 0 && left >= node_len {
                self.nodes.remove(ni);
                left -= node_len;
                continue;
            }
            let Node::Packed(lp) = &mut self.nodes[ni] else {
                unreachable!("a plain node is either skipped or removed whole");
            };
            let removed = lp.remove_range(k, left);
            left -= removed;
            ni += 1;
            k = 0;
        }
        self.len -= n;
        n
    }

    /// LTRIM with normalized bounds: keeps elements `start..=end` (nothing
    /// when the range is empty).
    pub fn keep_range(&mut self, start: usize, end: Option<usize>) {
        match end {
            Some(end) if start <= end && start < self.len => {
                let end = end.min(self.len - 1);
                self.remove_range(end + 1, self.len);
                self.remove_range(0, start);
            }
            _ => {
                self.nodes.clear();
                self.len = 0;
            }
        }
    }

    /// LREM: removes elements equal to `s`, up to `count` of them from the
    /// head (count > 0), from the tail (count < 0), or all (0).
    pub fn remove_matching(&mut self, s: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs().min(usize::MAX as u64) as usize
        };
        let from_tail = count < 0;
        let mut removed = 0;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        for ni in order {
            if removed == limit {
                break;
            }
            match &mut self.nodes[ni] {
                Node::Plain(v) => {
                    if v[..] == *s {
                        v.clear();
                        v.shrink_to_fit();
                        removed += 1;
                        self.len -= 1;
                    }
                }
                Node::Packed(lp) => {
                    let mut cur = if from_tail { lp.last() } else { lp.first() };
                    while let Some(off) = cur {
                        if removed == limit {
                            break;
                        }
                        if lp.at(off) == s {
                            removed += 1;
                            self.len -= 1;
                            let next = lp.remove_at_offset(off);
                            cur = if from_tail { lp.prev(off) } else { next };
                        } else {
                            cur = if from_tail {
                                lp.prev(off)
                            } else {
                                lp.next(off)
                            };
                        }
                    }
                }
            }
        }
        if removed > 0 {
            self.nodes.retain(|n| match n {
                Node::Packed(lp) => !lp.is_empty(),
                // A plain element is never empty (the threshold is at
                // least one byte): an empty one was just removed.
                Node::Plain(v) => !v.is_empty(),
            });
        }
        removed
    }

    /// Elements from index `start`, head to tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        match self.locate(start) {
            None => Iter {
                list: self,
                node: self.nodes.len(),
                off: None,
            },
            Some((ni, k)) => Iter {
                list: self,
                node: ni,
                off: match &self.nodes[ni] {
                    Node::Packed(lp) => lp.seek(k),
                    Node::Plain(_) => Some(0),
                },
            },
        }
    }

    /// Elements head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Elements tail to head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        let mut it = RevIter {
            list: self,
            node: self.nodes.len(),
            off: None,
        };
        it.enter_prev_node();
        it
    }
}

/// Head-to-tail iterator.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    off: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpElem<'a>;

    fn next(&mut self) -> Option<LpElem<'a>> {
        loop {
            let node = self.list.nodes.get(self.node)?;
            if let Some(off) = self.off {
                return Some(match node {
                    Node::Plain(v) => {
                        self.off = None;
                        LpElem::Str(v)
                    }
                    Node::Packed(lp) => {
                        let (e, next) = lp.at_next(off);
                        self.off = next;
                        e
                    }
                });
            }
            self.node += 1;
            self.off = match self.list.nodes.get(self.node)? {
                Node::Plain(_) => Some(0),
                Node::Packed(lp) => lp.first(),
            };
        }
    }
}

/// Tail-to-head iterator.
pub struct RevIter<'a> {
    list: &'a List,
    /// One past the node being read; 0 when done.
    node: usize,
    off: Option<usize>,
}

impl RevIter<'_> {
    fn enter_prev_node(&mut self) {
        while self.node > 0 {
            self.node -= 1;
            self.off = match &self.list.nodes[self.node] {
                Node::Plain(_) => Some(0),
                Node::Packed(lp) => lp.last(),
            };
            if self.off.is_some() {
                self.node += 1;
                return;
            }
        }
    }
}

impl<'a> Iterator for RevIter<'a> {
    type Item = LpElem<'a>;

    fn next(&mut self) -> Option<LpElem<'a>> {
        if self.node == 0 {
            return None;
        }
        let off = self.off?;
        let list: &'a List = self.list;
        let e = match &list.nodes[self.node - 1] {
            Node::Plain(v) => {
                self.off = None;
                LpElem::Str(v)
            }
            Node::Packed(lp) => {
                self.off = lp.prev(off);
                lp.at(off)
            }
        };
        if self.off.is_none() {
            self.node -= 1;
            self.enter_prev_node();
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn model_of(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(|e| e.to_vec()).collect()
    }

    fn check(l: &List, model: &VecDeque<Vec<u8>>) {
        let want: Vec<Vec<u8>> = model.iter().cloned().collect();
        assert_eq!(l.len(), want.len());
        assert_eq!(model_of(l), want);
        let mut rev: Vec<Vec<u8>> = l.iter_rev().map(|e| e.to_vec()).collect();
        rev.reverse();
        assert_eq!(rev, want);
        assert!(l.nodes.iter().all(|n| n.len() > 0), "no empty nodes");
        assert_eq!(l.nodes.iter().map(Node::len).sum::<usize>(), l.len());
    }

    #[test]
    fn count_fill_splits_nodes() {
        let mut l = List::new();
        for i in 0..10 {
            l.push(End::Tail, i.to_string().as_bytes(), Fill::new(4));
        }
        assert_eq!(l.node_count(), 3);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.get(9), Some(LpElem::Int(9)));
        // The 8 KB safety limit applies to count fills too.
        let mut l = List::new();
        let big = vec![b'x'; 5000];
        l.push(End::Tail, &big, Fill::new(100));
        l.push(End::Tail, &big, Fill::new(100));
        assert_eq!(l.node_count(), 2);
    }

    #[test]
    fn size_fill_classes() {
        let mut l = List::new();
        let v = vec![b'y'; 100];
        for _ in 0..100 {
            l.push(End::Head, &v, Fill::new(-1));
        }
        // About 102 bytes per entry: at most 4 KB per node.
        assert!(l.nodes().all(|(_, b)| b.len() <= 4096));
        assert_eq!(l.node_count(), 3);
    }

    #[test]
    fn matches_a_model_under_random_operations() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for fill in [-2i64, 1, 3, 128] {
            let fill = Fill::new(fill);
            let mut l = List::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..4000 {
                let v: Vec<u8> = match rng.gen_range(0..3) {
                    0 => rng.gen_range(-5000i64..5000).to_string().into_bytes(),
                    1 => vec![b'a' + rng.gen_range(0..3u8); rng.gen_range(0..300)],
                    _ => format!("e{}", rng.gen_range(0..20)).into_bytes(),
                };
                let len = model.len();
                match rng.gen_range(0..10) {
                    0 | 1 => {
                        l.push(End::Tail, &v, fill);
                        model.push_back(v);
                    }
                    2 => {
                        l.push(End::Head, &v, fill);
                        model.push_front(v);
                    }
                    3 => assert_eq!(l.pop(End::Head), model.pop_front()),
                    4 => assert_eq!(l.pop(End::Tail), model.pop_back()),
                    5 if len > 0 => {
                        let i = rng.gen_range(0..len);
                        assert!(l.set(i, &v, fill));
                        model[i] = v;
                    }
                    6 => {
                        let i = rng.gen_range(0..=len);
                        l.insert_at(i, &v, fill);
                        model.insert(i, v);
                    }
                    7 if len > 0 => {
                        let i = rng.gen_range(0..len);
                        let n = rng.gen_range(0..20);
                        let got = l.remove_range(i, n);
                        let n = n.min(len - i);
                        assert_eq!(got, n);
                        model.drain(i..i + n);
                    }
                    8 => {
                        let count = rng.gen_range(-3i64..=3);
                        let got = l.remove_matching(&v, count);
                        let mut left = if count == 0 {
                            usize::MAX
                        } else {
                            count.unsigned_abs() as usize
                        };
                        let mut kept: Vec<Vec<u8>> = Vec::new();
                        let mut removed = 0;
                        let items: Vec<Vec<u8>> = if count < 0 {
                            model.iter().rev().cloned().collect()
                        } else {
                            model.iter().cloned().collect()
                        };
                        for it in items {
                            if left > 0 && it == v {
                                left -= 1;
                                removed += 1;
                            } else {
                                kept.push(it);
                            }
                        }
                        if count < 0 {
                            kept.reverse();
                        }
                        model = kept.into_iter().collect();
                        assert_eq!(got, removed);
                    }
                    9 if len > 0 => {
                        let i = rng.gen_range(0..len);
                        assert_eq!(l.get(i).map(|e| e.to_vec()), Some(model[i].clone()));
                        let from: Vec<Vec<u8>> =
                            l.iter_from(i).take(5).map(|e| e.to_vec()).collect();
                        let want: Vec<Vec<u8>> = model.iter().skip(i).take(5).cloned().collect();
                        assert_eq!(from, want);
                    }
                    _ => {}
                }
                if step % 97 == 0 {
                    check(&l, &model);
                }
            }
            check(&l, &model);
            l.keep_range(3, Some(10));
            let want: VecDeque<Vec<u8>> = model.iter().skip(3).take(8).cloned().collect();
            check(&l, &want);
        }
    }
}
