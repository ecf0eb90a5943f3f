//! The keyspace on its own: set, get and SCAN over 100k keys, without
//! protocol or dispatch.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use snapcache::keyspace::{now_ms, Db, ExpireMode, Value};

const N: usize = 100_000;

fn keys() -> Vec<Vec<u8>> {
    (0..N).map(|i| format!("key:{i:08}").into_bytes()).collect()
}

fn filled(keys: &[Vec<u8>]) -> Db {
    let mut db = Db::new(0, 0x5eed);
    for k in keys {
        db.set(k, Value::string(b"some value"), false);
    }
    db
}

fn set_get(c: &mut Criterion) {
    let keys = keys();
    let mut g = c.benchmark_group("db_100k");
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("set_new", |b| {
        b.iter_batched(
            || Db::new(0, 0x5eed),
            |mut db| {
                for k in &keys {
                    db.set(k, Value::string(b"some value"), false);
                }
                db
            },
            BatchSize::LargeInput,
        )
    });

    let mut db = filled(&keys);
    g.bench_function("set_overwrite", |b| {
        b.iter(|| {
            for k in &keys {
                db.set(k, Value::string(b"other value"), false);
            }
        })
    });

    let now = now_ms();
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for k in &keys {
                found += db.lookup(k, now, ExpireMode::Delete).is_some() as usize;
            }
            assert_eq!(found, N);
            black_box(found)
        })
    });

    let misses: Vec<Vec<u8>> = (0..N)
        .map(|i| format!("nokey:{i:08}").into_bytes())
        .collect();
    g.bench_function("get_miss", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for k in &misses {
                found += db.lookup(k, now, ExpireMode::Delete).is_some() as usize;
            }
            assert_eq!(found, 0);
            black_box(found)
        })
    });

    g.finish();

    // A whole-keyspace SCAN takes milliseconds: fewer samples keep quick
    // runs quick.
    let mut g = c.benchmark_group("scan_100k");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    g.bench_function("count_10", |b| {
        b.iter(|| {
            let (mut cursor, mut seen) = (0u64, 0usize);
            loop {
                cursor = db.scan(cursor, 10, |_| seen += 1);
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(seen, N);
            black_box(seen)
        })
    });
    g.bench_function("count_1000", |b| {
        b.iter(|| {
            let (mut cursor, mut seen) = (0u64, 0usize);
            loop {
                cursor = db.scan(cursor, 1000, |_| seen += 1);
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(seen, N);
            black_box(seen)
        })
    });
    g.finish();
}

/// A set's `hashtable` encoding: the chained dict against the segmented
/// table it replaced (still the databases' table), 1M members.
fn set_members(c: &mut Criterion) {
    use snapcache::keyspace::dict::Dict;
    use snapcache::keyspace::set::Member;
    use snapcache::keyspace::table::Table;
    use snapcache::keyspace::SBytes;
    const M: usize = 1_000_000;
    let members: Vec<Vec<u8>> = (0..M).map(|i| format!("m:{i}").into_bytes()).collect();
    let mut g = c.benchmark_group("set_1m");
    g.sample_size(10);
    g.throughput(Throughput::Elements(M as u64));
    g.bench_function("dict_insert", |b| {
        b.iter_batched(
            || Dict::<Member>::new(7),
            |mut d| {
                for m in &members {
                    d.insert_with(m, || Member(SBytes::new(m)));
                }
                d
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("table_insert", |b| {
        b.iter_batched(
            || Table::<Member>::new(7),
            |mut t| {
                for m in &members {
                    if t.get(m).is_none() {
                        t.insert(Member(SBytes::new(m)));
                    }
                }
                t
            },
            BatchSize::LargeInput,
        )
    });
    let mut d = Dict::<Member>::new(7);
    let mut t = Table::<Member>::new(7);
    for m in &members {
        d.insert_with(m, || Member(SBytes::new(m)));
        t.insert(Member(SBytes::new(m)));
    }
    while d.rehash(1000) {}
    // Probe in a scattered order, as clients do.
    let probes: Vec<&Vec<u8>> = (0..M).map(|i| &members[(i * 7919) % M]).collect();
    g.bench_function("dict_contains", |b| {
        b.iter(|| black_box(probes.iter().filter(|m| d.get(m).is_some()).count()))
    });
    g.bench_function("table_contains", |b| {
        b.iter(|| black_box(probes.iter().filter(|m| t.get(m).is_some()).count()))
    });
    g.finish();
}

/// Every lookup reads the wall clock for the LRU stamp: its cost bounds
/// what caching the clock could save.
fn clock(c: &mut Criterion) {
    c.bench_function("clock/now_ms", |b| b.iter(|| black_box(now_ms())));
}

criterion_group!(benches, set_get, set_members, clock);
criterion_main!(benches);
