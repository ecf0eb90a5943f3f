//! RDB encoder and decoder throughput on 100k mixed small keys (ints,
//! strings, listpack hashes, intsets): `cargo bench --bench rdb`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use snapcache::keyspace::hash::Hash;
use snapcache::keyspace::list::Fill;
use snapcache::keyspace::set::Set;
use snapcache::keyspace::{hash, zset, Keyspace, Value};
use snapcache::persistence::rdb::{self, AccessInfo, Encodings, LoadOptions, SaveOptions};

const KEYS: u32 = 100_000;

fn enc() -> Encodings {
    Encodings {
        hash: hash::Limits {
            max_entries: 128,
            max_value: 64,
        },
        zset: zset::Limits {
            max_entries: 128,
            max_value: 64,
        },
        set_max_intset: 512,
        list_fill: Fill::new(-2),
    }
}

fn dataset() -> Keyspace {
    let e = enc();
    let mut ks = Keyspace::new(16);
    for i in 0..KEYS {
        let k = format!("key:{i:08}");
        let v = match i % 4 {
            0 => Value::string(format!("{i}").as_bytes()),
            1 => Value::string(format!("value-{i}-padding-padding-padding").as_bytes()),
            2 => {
                let mut h = Hash::default();
                for f in 0..5 {
                    h.set(
                        format!("f{f}").as_bytes(),
                        format!("v{i}").as_bytes(),
                        e.hash,
                    );
                }
                Value::from_hash(h)
            }
            _ => {
                let mut s = Set::new_intset();
                for m in 0..5 {
                    s.add(format!("{}", i + m).as_bytes(), 512);
                }
                Value::from_set(s)
            }
        };
        ks.dbs[0].set(k.as_bytes(), v, false);
    }
    ks
}

fn save_opts() -> SaveOptions {
    SaveOptions {
        compress: true,
        checksum: true,
        access: AccessInfo::None,
        extra_aux: Vec::new(),
        aof_base: false,
        used_mem: 1 << 20,
    }
}

fn bench(c: &mut Criterion) {
    let ks = dataset();
    let bytes = rdb::write_keyspace(&ks, save_opts(), Vec::new(), &mut |_| {}).expect("write");
    let mut g = c.benchmark_group("rdb");
    g.throughput(Throughput::Elements(KEYS as u64));
    g.sample_size(10);
    g.bench_function("write 100k keys", |b| {
        b.iter(|| {
            rdb::write_keyspace(
                &ks,
                save_opts(),
                Vec::with_capacity(bytes.len()),
                &mut |_| {},
            )
            .expect("write")
        })
    });
    for deep in [false, true] {
        let opts = LoadOptions {
            enc: enc(),
            deep_sanitize: deep,
            databases: 16,
            drop_expired_before: None,
        };
        let name = if deep {
            "load 100k keys (deep sanitize)"
        } else {
            "load 100k keys"
        };
        g.bench_function(name, |b| {
            b.iter(|| rdb::load(&bytes, &opts, &mut |_| {}).expect("load"))
        });
    }
    g.finish();
}

/// 1 KiB of printable pseudo-random bytes (what benches/snapshot-under-load.sh
/// stores): LZF finds almost nothing and gives up near the end.
fn printable(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            33 + (x % 94) as u8
        })
        .collect()
}

/// CRC-64 of 1 MiB: the `crc64` crate (slicing-by-8, what RDB writing
/// used before) against ours (slicing-by-16); LZF attempts on 1 KiB values.
fn bench_checksum_lzf(c: &mut Criterion) {
    let data = printable(1 << 20, 7);
    let mut g = c.benchmark_group("crc64");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("crc64 crate 1 MiB", |b| b.iter(|| crc64::crc64(0, &data)));
    g.bench_function("rdb::crc64 1 MiB", |b| {
        b.iter(|| rdb::crc64::crc64(0, &data))
    });
    g.finish();

    let values: Vec<Vec<u8>> = (0..64).map(|i| printable(1024, i + 1)).collect();
    let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; "
        .iter()
        .copied()
        .cycle()
        .take(1024)
        .collect();
    let mut g = c.benchmark_group("lzf");
    g.throughput(Throughput::Bytes(64 * 1024));
    g.bench_function("compress 64 x 1 KiB printable random", |b| {
        b.iter(|| {
            values
                .iter()
                .filter(|v| rdb::lzf::compress(v, v.len() - 4).is_some())
                .count()
        })
    });
    g.bench_function("compress 64 x 1 KiB text", |b| {
        b.iter(|| {
            (0..64)
                .filter(|_| rdb::lzf::compress(&text, text.len() - 4).is_some())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_checksum_lzf);
criterion_main!(benches);
