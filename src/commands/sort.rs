//! SORT and SORT_RO, as Redis 7.0's sort.c: a list, set or sorted set sorted
//! by its elements or by weights found through a `BY` pattern, projected
//! through `GET` patterns, returned or stored as a list.
//!
//! A pattern names other keys: its first `*` is replaced by the element, and
//! a `->field` suffix reads that field of a hash; `#` stands for the element
//! itself. Those keys are read as the command runs, so they are not declared
//! as keys (Redis's key specs mark them "unknown").

use std::cmp::Ordering;

use bytes::Bytes;

use super::{is, lookup_read, modified, notify};
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::list::{End, Fill, List};
use crate::keyspace::Value;
use crate::server::client::Client;
use crate::server::Engine;
use crate::util::num;

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// Whether the command may write (SORT) or not (SORT_RO, which has no STORE).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Asc,
    Desc,
}

/// How elements compare.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// By their value (or their weight) read as a double.
    Numeric,
    /// By bytes.
    Alpha,
}

/// The parsed options.
struct Plan {
    order: Order,
    compare: Compare,
    limit_start: i64,
    limit_count: i64,
    /// The BY pattern when it contains a `*`.
    by: Option<Bytes>,
    /// BY a pattern without `*`: keep the source's order.
    dont_sort: bool,
    gets: Vec<Bytes>,
    store: Option<Bytes>,
}

/// One element to sort, with what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA sorts by pattern (None: the key is missing).
    weight: Option<Vec<u8>>,
}

impl Item {
    fn new(elem: Vec<u8>) -> Item {
        Item {
            elem,
            score: 0.0,
            weight: None,
        }
    }
}

/// The source's type, which decides how it is loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    List,
    Set,
    ZSet,
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]
fn sort(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    sort_generic(e, c, args, Access::ReadWrite);
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]
fn sort_ro(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    sort_generic(e, c, args, Access::ReadOnly);
}

fn parse(c: &mut Client, args: &[Bytes], access: Access) -> Option<Plan> {
    let mut p = Plan {
        order: Order::Asc,
        compare: Compare::Numeric,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if is(a, "asc") {
            p.order = Order::Asc;
        } else if is(a, "desc") {
            p.order = Order::Desc;
        } else if is(a, "alpha") {
            p.compare = Compare::Alpha;
        } else if is(a, "limit") && left >= 2 {
            let (Some(s), Some(n)) = (num::string2l(&args[j + 1]), num::string2l(&args[j + 2]))
            else {
                c.reply().error(errors::NOT_INT);
                return None;
            };
            p.limit_start = s;
            p.limit_count = n;
            j += 2;
        } else if access == Access::ReadWrite && is(a, "store") && left >= 1 {
            p.store = Some(args[j + 1].clone());
            j += 1;
        } else if is(a, "by") && left >= 1 {
            // The last BY wins, but one without `*` anywhere keeps the
            // source's order (Redis never clears that flag).
            let pat = &args[j + 1];
            if find_star(pat).is_none() {
                p.dont_sort = true;
            }
            p.by = Some(pat.clone());
            j += 1;
        } else if is(a, "get") && left >= 1 {
            p.gets.push(args[j + 1].clone());
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(p)
}

/// The first `*` of a pattern, seen as a C string (up to a NUL byte).
fn find_star(pat: &[u8]) -> Option<usize> {
    c_str(pat).iter().position(|&b| b == b'*')
}

/// The bytes before the first NUL: what C string functions see.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&x| x == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// The value a pattern names for `elem` (Redis's lookupKeyByPattern): the
/// element itself for `#`, a string key's value, or a hash field's value;
/// None when the pattern has no `*` or the key is missing or of another type.
fn lookup_by_pattern(e: &mut Engine, dbi: usize, pat: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    let cpat = c_str(pat);
    if cpat == b"#" {
        return Some(elem.to_vec());
    }
    let star = find_star(pat)?;
    let after = &cpat[star + 1..];
    // `->` followed by at least one byte makes the rest a hash field.
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(i) => (&pat[star + 1..star + 1 + i], Some(&pat[star + 1 + i + 2..])),
        None => (&pat[star + 1..], None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let entry = lookup_read(e, dbi, &key)?;
    match (field, &entry.value) {
        (Some(fld), Value::Hash(h)) => h.get(fld).map(|v| v.to_vec()),
        (Some(_), _) => None,
        (None, v) => v.to_bytes(),
    }
}

/// A weight read as C `strtod` reads it: the whole string must convert,
/// except that an empty string is 0; NaN and out-of-range values fail.
fn parse_score(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    if s.is_empty() {
        return Some(0.0);
    }
    let body = match s.iter().position(|&x| !matches!(x, b' ' | b'\t'..=b'\r')) {
        Some(i) => &s[i..],
        None => return None,
    };
    num::parse_f64(body)
}

/// Byte comparison as C `strcoll` does it in the C locale (SORT replies use
/// it): strings end at their first NUL byte.
fn collate(a: &[u8], b: &[u8]) -> Ordering {
    c_str(a).cmp(c_str(b))
}

/// The window LIMIT selects among `len` elements, as inclusive indexes
/// `(start, end)`; empty when `end < start`. Redis clamps both numbers to
/// the length first, so nothing overflows.
fn window(len: i64, limit_start: i64, limit_count: i64) -> (i64, i64) {
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

/// Loads the elements to sort from `value` (None: a missing key, an empty
/// list). Lists and sorted sets kept in their order load just the LIMIT
/// window, in the requested direction. Returns the items and the window
/// among them to output.
fn load(value: Option<&Value>, p: &Plan) -> (Vec<Item>, i64, i64) {
    let len = match value {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    let (start, end) = window(len, p.limit_start, p.limit_count);
    let desc = p.order == Order::Desc;
    // The window's size when only the window is loaded.
    let n = if end >= start {
        (end - start + 1) as usize
    } else {
        0
    };
    let mut items = Vec::new();
    match value {
        Some(Value::List(l)) if p.dont_sort => {
            if n > 0 {
                let start = start as usize;
                let take = |el: crate::keyspace::listpack::LpElem<'_>| Item::new(el.to_vec());
                if desc {
                    items.extend(l.iter_rev().skip(start).take(n).map(take));
                } else {
                    items.extend(l.iter_from(start).take(n).map(take));
                }
            }
            return (items, 0, n as i64 - 1);
        }
        Some(Value::ZSet(z)) if p.dont_sort => {
            if n > 0 {
                let (lo, hi) = if desc {
                    let hi = len as usize - start as usize;
                    (hi - n, hi)
                } else {
                    (start as usize, start as usize + n)
                };
                z.visit(lo, hi, desc, |m, _| items.push(Item::new(m.to_vec())));
            }
            return (items, 0, n as i64 - 1);
        }
        Some(Value::List(l)) => {
            items.reserve(l.len());
            items.extend(l.iter().map(|el| Item::new(el.to_vec())));
        }
        Some(Value::Set(s)) => {
            items.reserve(s.len());
            items.extend(s.iter().map(|el| Item::new(el.to_vec())));
        }
        Some(Value::ZSet(z)) => {
            items.reserve(z.len());
            z.for_each(|m, _| items.push(Item::new(m.to_vec())));
        }
        _ => {}
    }
    (items, start, end)
}

fn sort_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], access: Access) {
    let Some(mut p) = parse(c, args, access) else {
        return;
    };
    let dbi = c.db;
    let (items, start, end) = {
        let entry = lookup_read(e, dbi, &args[1]);
        let source = match entry.as_ref().map(|en| &en.value) {
            None | Some(Value::List(_)) => Source::List,
            Some(Value::Set(_)) => Source::Set,
            Some(Value::ZSet(_)) => Source::ZSet,
            Some(_) => {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
        };
        // A set has no order of its own: what is stored must not depend on
        // the table's layout (for replicas and AOF), so it is sorted by its
        // members. Redis does the same for scripts' calls.
        if p.dont_sort && source == Source::Set && (p.store.is_some() || c.script) {
            p.dont_sort = false;
            p.compare = Compare::Alpha;
            p.by = None;
        }
        let value = entry.map(|en| {
            // Redis 7.0 converts a sorted set to its skiplist encoding
            // before sorting it, for good.
            if let Value::ZSet(z) = &mut en.value {
                z.convert_to_skiplist();
            }
            &en.value
        });
        load(value, &p)
    };
    let mut items = items;
    let mut bad_score = false;
    if !p.dont_sort {
        for it in items.iter_mut() {
            let weight = match &p.by {
                Some(pat) => match lookup_by_pattern(e, dbi, pat, &it.elem) {
                    Some(w) => w,
                    None => continue,
                },
                None => {
                    if p.compare == Compare::Numeric {
                        match parse_score(&it.elem) {
                            Some(s) => it.score = s,
                            None => bad_score = true,
                        }
                    }
                    continue;
                }
            };
            match p.compare {
                Compare::Alpha => it.weight = Some(weight),
                Compare::Numeric => match parse_score(&weight) {
                    Some(s) => it.score = s,
                    None => bad_score = true,
                },
            }
        }
        if !bad_score {
            sort_items(&mut items, &p);
        }
    }
    if bad_score {
        c.reply().error(NOT_DOUBLE);
        return;
    }
    let window: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let per_item = p.gets.len().max(1);
    let out_len = window.len() * per_item;
    match p.store.take() {
        None => {
            c.reply().array(out_len);
            for it in window {
                if p.gets.is_empty() {
                    c.reply().bulk(&it.elem);
                }
                for pat in &p.gets {
                    match lookup_by_pattern(e, dbi, pat, &it.elem) {
                        Some(v) => c.reply().bulk(&v),
                        None => c.reply().null(),
                    }
                }
            }
        }
        Some(dst) => {
            let fill = Fill::new(e.config.list_max_listpack_size);
            let mut list = List::new();
            for it in window {
                if p.gets.is_empty() {
                    list.push(End::Tail, &it.elem, fill);
                }
                for pat in &p.gets {
                    let v = lookup_by_pattern(e, dbi, pat, &it.elem).unwrap_or_default();
                    list.push(End::Tail, &v, fill);
                }
            }
            if out_len > 0 {
                e.ks.dbs[dbi].set(&dst, Value::from_list(list), false);
                modified(e, c, dbi, &dst);
                notify(e, c, crate::config::notify::LIST, "sortstore", dbi, &dst);
                // Redis counts one change per stored element.
                e.dirty += out_len as u64 - 1;
            } else if e.ks.dbs[dbi].remove(&dst).is_some() {
                modified(e, c, dbi, &dst);
                notify(e, c, crate::config::notify::GENERIC, "del", dbi, &dst);
            }
            c.reply().int(out_len as i64);
        }
    }
}

/// Sorts by score (ties by bytes) or, for ALPHA, by bytes or by the BY
/// values (missing ones first). Stored results compare whole byte strings;
/// replies compare as `strcoll` does.
fn sort_items(items: &mut [Item], p: &Plan) {
    let binary = p.store.is_some();
    let text = |a: &[u8], b: &[u8]| {
        if binary {
            a.cmp(b)
        } else {
            collate(a, b)
        }
    };
    let by_pattern = p.by.is_some();
    let cmp = |a: &Item, b: &Item| -> Ordering {
        match p.compare {
            Compare::Numeric => a
                .score
                .partial_cmp(&b.score)
                .filter(|o| *o != Ordering::Equal)
                .unwrap_or_else(|| a.elem.cmp(&b.elem)),
            Compare::Alpha if by_pattern => match (&a.weight, &b.weight) {
                (Some(x), Some(y)) => text(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            },
            Compare::Alpha => text(&a.elem, &b.elem),
        }
    };
    match p.order {
        Order::Asc => items.sort_by(cmp),
        Order::Desc => items.sort_by(|a, b| cmp(a, b).reverse()),
    }
}

/// Keys of SORT: the source, and the destination of the last STORE
/// (Redis's sortGetKeys, which skips the arguments of LIMIT, GET and BY).
fn keys_sort(args: &[Bytes]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "limit") {
            i += 2;
        } else if is(a, "get") || is(a, "by") {
            i += 1;
        } else if is(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

/// Keys of SORT_RO: the source only.
fn keys_sort_ro(_args: &[Bytes]) -> Vec<usize> {
    vec![1]
}

const CATS: u64 = acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "sort",
        -2,
        f::WRITE | f::DENYOOM,
        CATS | acl::WRITE,
        Keys::ONE,
        sort,
    )
    .summary("Sort the elements in a list, set or sorted set")
    .keys_fn(keys_sort),
    CommandSpec::new(
        "sort_ro",
        -2,
        f::READONLY,
        CATS | acl::READ,
        Keys::ONE,
        sort_ro,
    )
    .since("7.0.0")
    .summary("Sort the elements in a list, set or sorted set. Read-only variant of SORT.")
    .keys_fn(keys_sort_ro),
];
