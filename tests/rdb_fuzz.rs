//! Corrupted RDB files and DUMP payloads: every variant must load or be
//! refused, never panic. Deterministic (fixed seeds); one test function,
//! because checksum skipping is process-wide.

use std::path::Path;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use snapcache::keyspace::list::Fill;
use snapcache::keyspace::{hash, zset, Keyspace, Value};
use snapcache::persistence::rdb::{self, AccessInfo, Encodings, LoadOptions, SaveOptions};

fn enc(small: bool) -> Encodings {
    // Small thresholds make the loader convert (and so meet every element).
    let n = if small { 4 } else { 128 };
    Encodings {
        hash: hash::Limits {
            max_entries: n,
            max_value: 64,
        },
        zset: zset::Limits {
            max_entries: n,
            max_value: 64,
        },
        set_max_intset: n,
        list_fill: Fill::new(if small { 2 } else { -2 }),
    }
}

/// One mutation of `src`: byte flips, a truncation, a planted length or
/// encoding byte, an inserted or deleted run.
fn mutate(rng: &mut SmallRng, src: &[u8], from: usize) -> Vec<u8> {
    let mut v = src.to_vec();
    let pick = |rng: &mut SmallRng, len: usize| {
        rng.gen_range(from.min(len)..len.max(from + 1))
            .min(len.saturating_sub(1))
    };
    match rng.gen_range(0..6) {
        0 => {
            for _ in 0..rng.gen_range(1..5) {
                let i = pick(rng, v.len());
                v[i] = rng.gen();
            }
        }
        1 => {
            let i = pick(rng, v.len());
            v.truncate(i);
        }
        2 => {
            // A length that claims far more than is there.
            let i = pick(rng, v.len());
            let big: [u8; 5] = [0x80, rng.gen(), rng.gen(), rng.gen(), rng.gen()];
            let end = (i + 5).min(v.len());
            v.splice(i..end, big.iter().copied().take(end - i));
        }
        3 => {
            let i = pick(rng, v.len());
            v[i] = [0xC3, 0x81, 0x40, 0xFF, 0x00, 0xFE, 0x7F][rng.gen_range(0..7)];
        }
        4 => {
            let i = pick(rng, v.len());
            let junk: Vec<u8> = (0..rng.gen_range(1..8)).map(|_| rng.gen()).collect();
            v.splice(i..i, junk);
        }
        _ => {
            let i = pick(rng, v.len());
            let end = (i + rng.gen_range(1..16)).min(v.len());
            v.drain(i..end);
        }
    }
    v
}

fn our_dump() -> Vec<u8> {
    let mut ks = Keyspace::new(16);
    let db = &mut ks.dbs[0];
    db.set(
        b"s",
        Value::string(b"hello world, hello world, hello world"),
        false,
    );
    db.set(b"i", Value::string(b"123456"), false);
    let e = enc(false);
    let mut l = snapcache::keyspace::list::List::new();
    for i in 0..50 {
        l.push(
            snapcache::keyspace::list::End::Tail,
            format!("e{i}").as_bytes(),
            e.list_fill,
        );
    }
    db.set(b"l", Value::from_list(l), false);
    let mut h = snapcache::keyspace::hash::Hash::default();
    for i in 0..8 {
        h.set(
            format!("f{i}").as_bytes(),
            format!("{i}").as_bytes(),
            e.hash,
        );
    }
    db.set(b"h", Value::from_hash(h), false);
    let mut s = snapcache::keyspace::set::Set::new_intset();
    for i in 0..8 {
        s.add(format!("{i}").as_bytes(), 512);
    }
    db.set(b"si", Value::from_set(s), false);
    let mut s = snapcache::keyspace::set::Set::new_table();
    for i in 0..8 {
        s.add(format!("m{i}").as_bytes(), 512);
    }
    db.set(b"ss", Value::from_set(s), false);
    let pairs: Vec<(Vec<u8>, f64)> = (0..8)
        .map(|i| (format!("z{i}").into_bytes(), i as f64))
        .collect();
    db.set(
        b"z",
        Value::from_zset(snapcache::keyspace::zset::ZSet::from_sorted(&pairs, e.zset)),
        false,
    );
    let pairs: Vec<(Vec<u8>, f64)> = (0..200)
        .map(|i| (format!("z{i:03}").into_bytes(), i as f64))
        .collect();
    db.set(
        b"zb",
        Value::from_zset(snapcache::keyspace::zset::ZSet::from_sorted(&pairs, e.zset)),
        false,
    );
    // A stream in two nodes with a deleted entry and a group with
    // pending entries and consumers.
    let mut st = snapcache::keyspace::stream::Stream::new();
    for i in 1..12u64 {
        let v = format!("v{i}");
        let fv: Vec<&[u8]> = if i % 4 == 0 {
            vec![b"other", v.as_bytes()]
        } else {
            vec![b"f", v.as_bytes(), b"n", b"7"]
        };
        st.append(
            snapcache::keyspace::stream::StreamId::new(i, 0),
            &fv,
            4096,
            5,
        )
        .unwrap();
    }
    st.delete(snapcache::keyspace::stream::StreamId::new(3, 0));
    st.max_deleted_id = snapcache::keyspace::stream::StreamId::new(3, 0);
    let mut g = snapcache::keyspace::stream::Group::new(
        snapcache::keyspace::stream::StreamId::new(5, 0),
        5,
    );
    for (i, c) in [(1u64, "alice"), (2, "bob"), (5, "alice")] {
        let id = snapcache::keyspace::stream::StreamId::new(i, 0);
        g.pel.insert(
            id,
            snapcache::keyspace::stream::Nack {
                delivery_time: 1_700_000_000_000,
                delivery_count: i,
                consumer: Some(c.as_bytes().to_vec()),
            },
        );
        g.consumers
            .entry(c.as_bytes().to_vec())
            .or_default()
            .pel
            .insert(id);
    }
    g.consumers.entry(b"carol".to_vec()).or_default();
    st.groups.insert(b"grp".to_vec(), g);
    db.set(b"x", Value::from_stream(st), false);
    db.set_expire(b"s", 4_102_444_800_000);
    let opts = SaveOptions {
        compress: true,
        checksum: true,
        access: AccessInfo::Lru,
        extra_aux: Vec::new(),
        aof_base: false,
        used_mem: 0,
    };
    rdb::write_keyspace(&ks, opts, Vec::new(), &mut |_| {}).unwrap()
}

/// Walks, reads and changes a restored stream as commands would.
fn exercise_stream(st: &snapcache::keyspace::stream::Stream) {
    use snapcache::keyspace::stream::{StreamId, Trim, TrimStrategy};
    let _ = st.range(StreamId::MIN, StreamId::MAX, false, 0);
    let _ = st.range(StreamId::MIN, StreamId::MAX, true, 3);
    let _ = st.last_valid_id();
    for g in st.groups.values() {
        let _ = st.group_lag(g);
    }
    let mut c = st.clone();
    if let Some(id) = c.edge_id(true, true) {
        c.delete(id);
    }
    let _ = c.append(
        c.last_id.incr().unwrap_or(StreamId::MAX),
        &[b"f", b"v"],
        4096,
        100,
    );
    c.trim(Trim {
        strategy: TrimStrategy::MaxLen(1),
        approx: false,
        limit: 0,
    });
    c.trim(Trim {
        strategy: TrimStrategy::MinId(StreamId::MAX),
        approx: true,
        limit: 100,
    });
}

#[test]
fn corrupted_inputs_never_panic() {
    // Checksums would refuse most variants before the decoder sees them.
    rdb::set_skip_checksum_validation(true);
    let fixture = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rdb/redis-7.0.15.rdb"),
    )
    .unwrap();
    let ours = our_dump();
    // RDB_FUZZ_ROUNDS=N runs N times as many variants (for longer runs).
    let rounds: usize = std::env::var("RDB_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let mut outcomes = [0usize; 2];

    // Files: the small one most of the time (fast), the fixture sometimes.
    for n in 0..4000 * rounds {
        let src = if n % 8 == 0 { &fixture } else { &ours };
        let bad = mutate(&mut rng, src, 9);
        let opts = LoadOptions {
            enc: enc(n % 3 == 0),
            deep_sanitize: n % 2 == 0,
            databases: 16,
            drop_expired_before: None,
        };
        let r = std::panic::catch_unwind(|| match rdb::load(&bad, &opts, &mut |_| {}) {
            Ok(l) => {
                // What was accepted must be usable: walk and re-encode it.
                let _ = l.keyspace.digest();
                let save = SaveOptions {
                    compress: true,
                    checksum: true,
                    access: AccessInfo::None,
                    extra_aux: Vec::new(),
                    aof_base: false,
                    used_mem: 0,
                };
                rdb::write_keyspace(&l.keyspace, save, Vec::new(), &mut |_| {}).unwrap();
                true
            }
            Err(_) => false,
        });
        match r {
            Ok(ok) => outcomes[ok as usize] += 1,
            Err(_) => panic!("load panicked on variant {n}: {bad:?}"),
        }
    }

    // DUMP payloads of every value in both files.
    let mut payloads = Vec::new();
    for bytes in [&fixture, &ours] {
        let opts = LoadOptions {
            enc: enc(false),
            deep_sanitize: true,
            databases: 16,
            drop_expired_before: None,
        };
        let l = rdb::load(bytes, &opts, &mut |_| {}).unwrap();
        for db in &l.keyspace.dbs {
            for e in db.iter() {
                payloads.push(rdb::dump_value(&e.value, true));
                payloads.push(rdb::dump_value(&e.value, false));
            }
        }
    }
    // The big values are slow to decode in debug builds: use the small ones.
    payloads.retain(|p| p.len() < 4096);
    for n in 0..6000 * rounds {
        let src = &payloads[n % payloads.len()];
        let mut bad = mutate(&mut rng, src, 0);
        if n % 2 == 0 && bad.len() >= 10 {
            // Keep a valid footer so the value itself is decoded.
            let k = bad.len() - 10;
            bad[k] = 10;
            bad[k + 1] = 0;
        }
        let e = enc(n % 3 == 0);
        let r = std::panic::catch_unwind(|| match rdb::restore_value(&bad, &e, n % 2 == 1) {
            Ok(v) => {
                if let Some(st) = v.as_stream() {
                    exercise_stream(st);
                }
                let again = rdb::dump_value(&v, true);
                let mut ks = Keyspace::new(1);
                ks.dbs[0].set(b"k", v, false);
                let _ = ks.digest();
                assert!(again.len() >= 11);
                true
            }
            Err(_) => false,
        });
        match r {
            Ok(ok) => outcomes[ok as usize] += 1,
            Err(_) => panic!("restore panicked on variant {n}: {bad:?}"),
        }
    }
    rdb::set_skip_checksum_validation(false);
    eprintln!(
        "corrupted variants: {} refused, {} accepted",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[0] > 5000, "most variants are refused");
}
