//! Sorted sets, with Redis's two encodings.
//!
//! * `skiplist`: a skiplist ordered by (score, member) whose links carry span
//!   counts, so rank lookups and rank ranges cost O(log n), plus a
//!   member → score hash table (the segmented [`Table`], so ZSCAN keeps the
//!   database SCAN's guarantees).
//! * `listpack`: small sets, as member/score pairs sorted by score then member
//!   in Redis's listpack bytes, scores written as Redis's d2string does.
//!
//! Operations take and return *ascending* ranks; commands translate REV
//! ranges. Nothing here knows about RESP.

use std::cmp::Ordering;

use super::listpack::{Listpack, LpElem};
use super::table::{Keyed, Table};

/// Deepest skiplist level (Redis's ZSKIPLIST_MAXLEVEL).
const MAX_LEVEL: usize = 32;
/// Node index 0 is the header; as a link it means "none".
const NIL: u32 = 0;
/// Listpack byte size Redis refuses to grow past (lpSafeToAdd's 1 GB).
const LISTPACK_SAFE: usize = 1 << 30;

/// Conversion thresholds (`zset-max-listpack-entries` / `-value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

/// A score interval as ZRANGEBYSCORE takes it (`(` makes a bound exclusive).
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// True when no score can be inside.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic interval (`-`, `+`, `[x`, `(x`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    /// Orders two bounds by their strings, `-` lowest and `+` highest.
    fn cmp_bound(&self, other: &LexBound) -> Ordering {
        use LexBound::*;
        match (self, other) {
            (Min, Min) | (Max, Max) => Ordering::Equal,
            (Min, _) | (_, Max) => Ordering::Less,
            (Max, _) | (_, Min) => Ordering::Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// A lexicographic interval as ZRANGEBYLEX takes it.
#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    #[inline]
    pub fn gte_min(&self, e: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(b) => e >= &b[..],
            LexBound::Excl(b) => e > &b[..],
        }
    }

    #[inline]
    pub fn lte_max(&self, e: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(b) => e <= &b[..],
            LexBound::Excl(b) => e < &b[..],
        }
    }

    /// True when no member can be inside.
    pub fn is_empty(&self) -> bool {
        match self.min.cmp_bound(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }
}

/// ZADD's conditions.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    /// The score changed.
    Updated,
    /// The member exists with that very score.
    Same,
    /// A condition (NX, XX, GT, LT) prevented the operation.
    Nop,
    /// The resulting score would be NaN; nothing changed.
    Nan,
}

#[derive(Clone, Copy, Debug)]
struct Lvl {
    fwd: u32,
    span: u32,
}

#[derive(Debug)]
struct Node {
    ele: Box<[u8]>,
    score: f64,
    back: u32,
    lv: Box<[Lvl]>,
}

#[inline]
fn node_lt(n: &Node, score: f64, ele: &[u8]) -> bool {
    n.score < score || (n.score == score && &n.ele[..] < ele)
}

/// The ordered half of the `skiplist` encoding, its nodes in an arena.
#[derive(Debug)]
struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    level: usize,
    len: usize,
}

impl SkipList {
    fn new() -> Self {
        SkipList {
            nodes: vec![Node {
                ele: Box::default(),
                score: 0.0,
                back: NIL,
                lv: vec![Lvl { fwd: NIL, span: 0 }; MAX_LEVEL].into_boxed_slice(),
            }],
            free: Vec::new(),
            tail: NIL,
            level: 1,
            len: 0,
        }
    }

    #[inline]
    fn lv(&self, x: u32, i: usize) -> Lvl {
        self.nodes[x as usize].lv[i]
    }

    #[inline]
    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Lvl {
        &mut self.nodes[x as usize].lv[i]
    }

    #[inline]
    fn node(&self, x: u32) -> &Node {
        &self.nodes[x as usize]
    }

    fn random_level() -> usize {
        // Each further level with probability 1/4, as Redis's ZSKIPLIST_P.
        let mut level = 1;
        let mut bits: u64 = rand::random();
        while level < MAX_LEVEL && bits & 3 == 0 {
            level += 1;
            bits >>= 2;
        }
        level
    }

    /// Inserts a member known to be absent.
    fn insert(&mut self, score: f64, ele: Box<[u8]>) {
        let mut update = [NIL; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && node_lt(self.node(l.fwd), score, &ele) {
                    rank[i] += l.span;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let level = Self::random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = NIL;
                self.lv_mut(NIL, i).span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node {
            ele,
            score,
            back: update[0],
            lv: vec![Lvl { fwd: NIL, span: 0 }; level].into_boxed_slice(),
        };
        let new = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let u = self.lv(update[i], i);
            let gap = rank[0] - rank[i];
            *self.lv_mut(new, i) = Lvl {
                fwd: u.fwd,
                span: u.span - gap,
            };
            *self.lv_mut(update[i], i) = Lvl {
                fwd: new,
                span: gap + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.lv_mut(u, i).span += 1;
        }
        let next = self.lv(new, 0).fwd;
        if next != NIL {
            self.nodes[next as usize].back = new;
        } else {
            self.tail = new;
        }
        self.len += 1;
    }

    /// Removes (score, ele); false when absent.
    fn delete(&mut self, score: f64, ele: &[u8]) -> bool {
        let mut update = [NIL; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let f = self.lv(x, i).fwd;
                if f != NIL && node_lt(self.node(f), score, ele) {
                    x = f;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let x = self.lv(x, 0).fwd;
        if x != NIL && self.node(x).score == score && &self.node(x).ele[..] == ele {
            self.unlink(x, &update);
            true
        } else {
            false
        }
    }

    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lv(u, i);
            if ul.fwd == x {
                let xl = self.lv(x, i);
                *self.lv_mut(u, i) = Lvl {
                    fwd: xl.fwd,
                    span: ul.span + xl.span - 1,
                };
            } else {
                self.lv_mut(u, i).span -= 1;
            }
        }
        let next = self.lv(x, 0).fwd;
        let back = self.node(x).back;
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.lv(NIL, self.level - 1).fwd == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        let n = &mut self.nodes[x as usize];
        n.ele = Box::default();
        n.lv = Box::default();
        self.free.push(x);
    }

    /// 1-based rank of (score, ele), 0 when absent.
    fn rank(&self, score: f64, ele: &[u8]) -> usize {
        let mut x = NIL;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd == NIL {
                    break;
                }
                let n = self.node(l.fwd);
                if n.score < score || (n.score == score && &n.ele[..] <= ele) {
                    rank += l.span as usize;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            if x != NIL && &self.node(x).ele[..] == ele {
                return rank;
            }
        }
        0
    }

    /// The node at 1-based `rank`, NIL when out of range.
    fn by_rank(&self, rank: usize) -> u32 {
        let mut x = NIL;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && traversed + l.span as usize <= rank {
                    traversed += l.span as usize;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return x;
            }
        }
        NIL
    }

    /// How many leading nodes satisfy `pred`, which must hold for a prefix
    /// of the order (O(log n)).
    fn count_while(&self, pred: impl Fn(&Node) -> bool) -> usize {
        let mut x = NIL;
        let mut n = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.fwd != NIL && pred(self.node(l.fwd)) {
                    n += l.span as usize;
                    x = l.fwd;
                } else {
                    break;
                }
            }
        }
        n
    }

    /// Visits ascending ranks `[lo, hi)`, forwards or backwards.
    fn visit(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if lo >= hi {
            return;
        }
        if rev {
            let mut x = self.by_rank(hi);
            for _ in lo..hi {
                let n = self.node(x);
                f(&n.ele, n.score);
                x = n.back;
            }
        } else {
            let mut x = self.by_rank(lo + 1);
            for _ in lo..hi {
                let n = self.node(x);
                f(&n.ele, n.score);
                x = n.lv[0].fwd;
            }
        }
    }
}

/// One member → score pair of the `skiplist` encoding's hash table.
#[derive(Debug)]
struct DictEnt {
    ele: Box<[u8]>,
    score: f64,
}

impl Keyed for DictEnt {
    fn key(&self) -> &[u8] {
        &self.ele
    }
}

/// The `skiplist` encoding: ordered list plus member index.
struct SkipSet {
    list: SkipList,
    dict: Table<DictEnt>,
}

impl std::fmt::Debug for SkipSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkipSet")
            .field("len", &self.list.len)
            .finish()
    }
}

impl SkipSet {
    fn new() -> Self {
        SkipSet {
            list: SkipList::new(),
            dict: Table::new(rand::random()),
        }
    }

    fn insert_new(&mut self, ele: &[u8], score: f64) {
        self.list.insert(score, ele.into());
        self.dict.insert(DictEnt {
            ele: ele.into(),
            score,
        });
    }

    fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        let mut doomed = Vec::with_capacity(hi.saturating_sub(lo).min(1024));
        self.list
            .visit(lo, hi, false, |e, s| doomed.push((e.to_vec(), s)));
        for (e, s) in &doomed {
            self.list.delete(*s, e);
            self.dict.remove(e);
        }
        doomed.len()
    }
}

impl Clone for SkipSet {
    fn clone(&self) -> Self {
        let mut s = SkipSet::new();
        self.list
            .visit(0, self.list.len, false, |e, sc| s.insert_new(e, sc));
        s
    }
}

/// A score as Redis stores it in a listpack (d2string: `inf`, an
/// integer when exact, else `%.17g`; the listpack keeps integers as such).
fn score_text(score: f64) -> String {
    if score == 0.0 {
        // Redis writes "-0", which its listpack stores as the integer 0:
        // a listpack set reads -0 back as 0 (a skiplist keeps -0).
        return "0".to_string();
    }
    crate::protocol::format_double(score)
}

fn score_of(e: LpElem<'_>) -> f64 {
    match e {
        // Scores are written by score_text, so they always parse.
        LpElem::Int(n) => n as f64,
        LpElem::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0),
    }
}

/// Orders a listpack member against `ele` by their string forms.
fn cmp_elem(e: LpElem<'_>, ele: &[u8]) -> Ordering {
    e.with_bytes(|b| b.cmp(ele))
}

/// Member/score pairs of the `listpack` encoding, in (score, member) order.
#[derive(Clone, Debug, Default)]
struct PairList {
    lp: Listpack,
}

impl PairList {
    fn len(&self) -> usize {
        self.lp.len() / 2
    }

    /// Offsets of each pair's member and score, with the pair, in order.
    fn pairs(&self) -> impl Iterator<Item = (usize, LpElem<'_>, f64)> + '_ {
        let mut off = self.lp.first();
        std::iter::from_fn(move || {
            let m = off?;
            let (member, s) = self.lp.at_next(m);
            let (score, after) = self.lp.at_next(s.expect("listpack zset holds pairs"));
            off = after;
            Some((m, member, score_of(score)))
        })
    }

    fn find(&self, ele: &[u8]) -> Option<(usize, usize, f64)> {
        self.pairs()
            .enumerate()
            .find(|(_, (_, m, _))| m.eq_bytes(ele))
            .map(|(i, (off, _, s))| (i, off, s))
    }

    fn insert(&mut self, ele: &[u8], score: f64) {
        let at = self
            .pairs()
            .find(|(_, m, s)| *s > score || (*s == score && cmp_elem(*m, ele) == Ordering::Greater))
            .map(|(off, _, _)| off)
            .unwrap_or_else(|| self.lp.end_offset());
        let m = self.lp.insert_at_offset(at, ele);
        let after = self.lp.next(m).unwrap_or_else(|| self.lp.end_offset());
        self.lp
            .insert_at_offset(after, score_text(score).as_bytes());
    }

    fn delete_at(&mut self, off: usize) {
        self.lp.remove_at_offset(off);
        self.lp.remove_at_offset(off);
    }

    fn visit(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if lo >= hi {
            return;
        }
        if rev {
            let mut m = self.lp.seek(2 * (hi - 1));
            for _ in lo..hi {
                let Some(off) = m else { break };
                let s = self.lp.next(off).expect("pairs");
                let score = score_of(self.lp.at(s));
                self.lp.at(off).with_bytes(|b| f(b, score));
                m = self.lp.prev(off).and_then(|p| self.lp.prev(p));
            }
        } else {
            for (_, m, s) in self.pairs().skip(lo).take(hi - lo) {
                m.with_bytes(|b| f(b, s));
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Repr {
    Pack(PairList),
    Skip(Box<SkipSet>),
}

/// A sorted set value.
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new_skiplist()
    }
}

impl ZSet {
    /// An empty set for ZADD on a missing key whose first member is
    /// `first_len` bytes long (Redis checks only that one).
    pub fn for_new_key(first_len: usize, lim: Limits) -> ZSet {
        if lim.max_entries == 0 || lim.max_value < first_len {
            ZSet::new_skiplist()
        } else {
            ZSet::new_listpack()
        }
    }

    /// An empty set about to receive `len` members (ZRANGESTORE picks the
    /// encoding by count alone; members too long convert it on insert).
    pub fn for_store(len: usize, lim: Limits) -> ZSet {
        if len > lim.max_entries {
            ZSet::new_skiplist()
        } else {
            ZSet::new_listpack()
        }
    }

    /// A set holding `pairs`, already sorted by (score, member) and without
    /// duplicates, in the encoding its size calls for (the *STORE results).
    pub fn from_sorted(pairs: &[(Vec<u8>, f64)], lim: Limits) -> ZSet {
        let maxlen = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let total: usize = pairs.iter().map(|(m, _)| m.len()).sum();
        if pairs.len() <= lim.max_entries && maxlen <= lim.max_value && total < LISTPACK_SAFE {
            let mut p = PairList::default();
            for (m, s) in pairs {
                p.lp.push_back(m);
                p.lp.push_back(score_text(*s).as_bytes());
            }
            ZSet {
                repr: Repr::Pack(p),
            }
        } else {
            let mut z = SkipSet::new();
            for (m, s) in pairs {
                z.insert_new(m, *s);
            }
            ZSet {
                repr: Repr::Skip(Box::new(z)),
            }
        }
    }

    fn new_listpack() -> ZSet {
        ZSet {
            repr: Repr::Pack(PairList::default()),
        }
    }

    /// A `listpack` set over `lp`: member, score pairs sorted by (score,
    /// member), an even count (the caller checks; every walk relies on it).
    pub fn from_listpack(lp: Listpack) -> ZSet {
        debug_assert!(lp.len().is_multiple_of(2));
        ZSet {
            repr: Repr::Pack(PairList { lp }),
        }
    }

    /// The listpack's bytes, when that is the encoding (RDB encoder).
    pub fn listpack_bytes(&self) -> Option<&[u8]> {
        match &self.repr {
            Repr::Pack(p) => Some(p.lp.as_bytes()),
            Repr::Skip(_) => None,
        }
    }

    /// Rewrites a `listpack` set as a `skiplist` one (SORT does this to its
    /// source, as Redis 7.0's sort.c does).
    pub fn convert_to_skiplist(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut s = SkipSet::new();
            for (_, m, sc) in p.pairs() {
                m.with_bytes(|b| s.insert_new(b, sc));
            }
            self.repr = Repr::Skip(Box::new(s));
        }
    }

    fn new_skiplist() -> ZSet {
        ZSet {
            repr: Repr::Skip(Box::new(SkipSet::new())),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len(),
            Repr::Skip(s) => s.list.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Skip(_) => "skiplist",
        }
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.lp.heap_size(),
            Repr::Skip(s) => {
                use crate::persistence::memory::size_class;
                // Each node owns its element and levels; the dict holds a
                // second copy of the element.
                let nodes: usize = s
                    .list
                    .nodes
                    .iter()
                    .map(|n| {
                        2 * size_class(n.ele.len())
                            + size_class(n.lv.len() * std::mem::size_of::<Lvl>())
                    })
                    .sum();
                size_class(std::mem::size_of::<SkipSet>())
                    + size_class(s.list.nodes.capacity() * std::mem::size_of::<Node>())
                    + nodes
                    + s.dict.overhead_bytes()
            }
        }
    }

    /// The member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|(_, _, s)| s),
            Repr::Skip(s) => s.dict.get(member).map(|d| d.score),
        }
    }

    /// ZADD's core (Redis's zsetAdd): adds, updates or increments `member`
    /// under `fl`; returns what happened and the member's resulting score.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        fl: AddFlags,
        lim: Limits,
    ) -> (AddOutcome, f64) {
        if fl.incr && score.is_nan() {
            return (AddOutcome::Nan, 0.0);
        }
        match self.score(member) {
            Some(cur) => {
                if fl.nx {
                    return (AddOutcome::Nop, cur);
                }
                let mut new = score;
                if fl.incr {
                    new += cur;
                    if new.is_nan() {
                        return (AddOutcome::Nan, cur);
                    }
                }
                if (fl.lt && new >= cur) || (fl.gt && new <= cur) {
                    return (AddOutcome::Nop, cur);
                }
                if new == cur {
                    return (AddOutcome::Same, cur);
                }
                self.set_existing(member, cur, new);
                (AddOutcome::Updated, new)
            }
            None => {
                if fl.xx {
                    return (AddOutcome::Nop, 0.0);
                }
                self.insert_new(member, score, lim);
                (AddOutcome::Added, score)
            }
        }
    }

    fn set_existing(&mut self, member: &[u8], cur: f64, new: f64) {
        match &mut self.repr {
            Repr::Pack(p) => {
                if let Some((_, off, _)) = p.find(member) {
                    p.delete_at(off);
                    p.insert(member, new);
                }
            }
            Repr::Skip(s) => {
                s.list.delete(cur, member);
                s.list.insert(new, member.into());
                if let Some(d) = s.dict.get_mut(member) {
                    d.score = new;
                }
            }
        }
    }

    /// Inserts a member known to be absent, converting the encoding first
    /// when the set outgrows `lim`.
    pub fn insert_new(&mut self, member: &[u8], score: f64, lim: Limits) {
        if let Repr::Pack(p) = &self.repr {
            if p.len() + 1 > lim.max_entries
                || member.len() > lim.max_value
                || p.lp.byte_len() + member.len() >= LISTPACK_SAFE
            {
                self.convert_to_skiplist();
            }
        }
        match &mut self.repr {
            Repr::Pack(p) => p.insert(member, score),
            Repr::Skip(s) => s.insert_new(member, score),
        }
    }

    /// Removes `member`; false when absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(member) {
                Some((_, off, _)) => {
                    p.delete_at(off);
                    true
                }
                None => false,
            },
            Repr::Skip(s) => match s.dict.remove(member) {
                Some(d) => {
                    s.list.delete(d.score, member);
                    true
                }
                None => false,
            },
        }
    }

    /// Ascending 0-based rank of `member`, with its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|(i, _, s)| (i, s)),
            Repr::Skip(s) => {
                let score = s.dict.get(member)?.score;
                let r = s.list.rank(score, member);
                (r > 0).then(|| (r - 1, score))
            }
        }
    }

    /// Visits the members at ascending ranks `[lo, hi)`, in ascending order
    /// or, with `rev`, descending.
    pub fn visit(&self, lo: usize, hi: usize, rev: bool, f: impl FnMut(&[u8], f64)) {
        let hi = hi.min(self.len());
        match &self.repr {
            Repr::Pack(p) => p.visit(lo, hi, rev, f),
            Repr::Skip(s) => s.list.visit(lo, hi, rev, f),
        }
    }

    /// Visits every member in ascending order.
    pub fn for_each(&self, f: impl FnMut(&[u8], f64)) {
        self.visit(0, self.len(), false, f)
    }

    /// The ascending ranks `[lo, hi)` of the members whose scores are in `r`.
    pub fn score_bounds(&self, r: &ScoreRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        match &self.repr {
            Repr::Pack(p) => {
                let lo = p.pairs().take_while(|(_, _, s)| !r.gte_min(*s)).count();
                let hi = p.pairs().take_while(|(_, _, s)| r.lte_max(*s)).count();
                (lo, hi.max(lo))
            }
            Repr::Skip(s) => {
                let lo = s.list.count_while(|n| !r.gte_min(n.score));
                let hi = s.list.count_while(|n| r.lte_max(n.score));
                (lo, hi.max(lo))
            }
        }
    }

    /// The ascending ranks `[lo, hi)` of the members inside `r`, for sets
    /// whose members all share one score.
    pub fn lex_bounds(&self, r: &LexRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        match &self.repr {
            Repr::Pack(p) => {
                let lo = p
                    .pairs()
                    .take_while(|(_, m, _)| !m.with_bytes(|b| r.gte_min(b)))
                    .count();
                let hi = p
                    .pairs()
                    .take_while(|(_, m, _)| m.with_bytes(|b| r.lte_max(b)))
                    .count();
                (lo, hi.max(lo))
            }
            Repr::Skip(s) => {
                let lo = s.list.count_while(|n| !r.gte_min(&n.ele));
                let hi = s.list.count_while(|n| r.lte_max(&n.ele));
                (lo, hi.max(lo))
            }
        }
    }

    /// Removes the members at ascending ranks `[lo, hi)`; returns how many.
    pub fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        let hi = hi.min(self.len());
        if lo >= hi {
            return 0;
        }
        match &mut self.repr {
            Repr::Pack(p) => p.lp.remove_range(2 * lo, 2 * (hi - lo)) / 2,
            Repr::Skip(s) => s.remove_ranks(lo, hi),
        }
    }

    /// One ZSCAN step: calls `f` for some members from `cursor` on and
    /// returns the next cursor (0 when done).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            // A small set is returned whole, as Redis does for listpacks.
            Repr::Pack(p) => {
                let _ = (cursor, count);
                p.visit(0, p.len(), false, f);
                0
            }
            Repr::Skip(s) => s.dict.scan(cursor, count, |d| f(&d.ele, d.score)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_entries: 128,
        max_value: 64,
    };

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::new();
        z.for_each(|e, s| v.push((e.to_vec(), s)));
        v
    }

    #[test]
    fn skiplist_orders_and_ranks() {
        let mut z = ZSet::new_skiplist();
        for i in 0..1000u32 {
            let m = format!("m{:04}", (i * 7919) % 1000);
            z.add(
                m.as_bytes(),
                f64::from((i * 7919) % 1000 / 10),
                AddFlags::default(),
                LIM,
            );
        }
        assert_eq!(z.len(), 1000);
        let all = members(&z);
        for (i, (m, _)) in all.iter().enumerate() {
            assert_eq!(m, format!("m{i:04}").as_bytes());
            assert_eq!(z.rank(m).unwrap().0, i);
        }
        let r = ScoreRange {
            min: 10.0,
            max: 20.0,
            minex: true,
            maxex: false,
        };
        assert_eq!(z.score_bounds(&r), (110, 210));
        assert_eq!(z.remove_ranks(100, 200), 100);
        assert_eq!(z.len(), 900);
        assert_eq!(z.rank(b"m0200").unwrap().0, 100);
        assert!(z.remove(b"m0999"));
        assert!(!z.remove(b"m0999"));
        let mut last = Vec::new();
        z.visit(897, 899, true, |e, _| last.push(e.to_vec()));
        assert_eq!(last, vec![b"m0998".to_vec(), b"m0997".to_vec()]);
    }

    #[test]
    fn listpack_and_skiplist_agree() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let big = Limits {
            max_entries: usize::MAX,
            max_value: usize::MAX,
        };
        let mut a = ZSet::new_listpack();
        let mut b = ZSet::new_skiplist();
        for _ in 0..3000 {
            let m = format!("{}", rng.gen_range(0..60));
            let m = if rng.gen_bool(0.5) {
                format!("m{m}")
            } else {
                m
            };
            match rng.gen_range(0..4) {
                0 => {
                    assert_eq!(a.remove(m.as_bytes()), b.remove(m.as_bytes()));
                }
                1 => {
                    let (lo, hi) = (rng.gen_range(0..40), rng.gen_range(0..40));
                    assert_eq!(a.remove_ranks(lo, hi), b.remove_ranks(lo, hi));
                }
                _ => {
                    let sc = f64::from(rng.gen_range(-5..5)) / 2.0;
                    let fl = AddFlags {
                        incr: rng.gen_bool(0.3),
                        ..AddFlags::default()
                    };
                    assert_eq!(
                        a.add(m.as_bytes(), sc, fl, big),
                        b.add(m.as_bytes(), sc, fl, big)
                    );
                }
            }
            assert_eq!(members(&a), members(&b));
            let r = ScoreRange {
                min: -1.0,
                max: 1.5,
                minex: true,
                maxex: false,
            };
            assert_eq!(a.score_bounds(&r), b.score_bounds(&r));
            let mut ra = Vec::new();
            let mut rb = Vec::new();
            a.visit(1, 7, true, |m, _| ra.push(m.to_vec()));
            b.visit(1, 7, true, |m, _| rb.push(m.to_vec()));
            assert_eq!(ra, rb);
            assert_eq!(a.rank(m.as_bytes()), b.rank(m.as_bytes()));
        }
        assert_eq!(a.encoding(), "listpack");
    }
}
