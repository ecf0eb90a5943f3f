//! Request parsing and reply encoding: the per-command cost every request
//! pays before and after the keyspace.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use snapcache::protocol::decode::{Limits, RequestDecoder};
use snapcache::protocol::encode::{Out, Proto};

/// `SET key:NNN value` x16 as one pipelined read.
fn pipeline_of_sets() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..16 {
        let key = format!("key:{i:03}");
        buf.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$5\r\nvalue\r\n",
                key.len()
            )
            .as_bytes(),
        );
    }
    buf
}

fn decode(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("decode");

    let pipeline = pipeline_of_sets();
    g.throughput(Throughput::Elements(16));
    g.bench_function("pipeline_16_set", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&pipeline[..]),
            |buf| {
                let mut dec = RequestDecoder::new();
                let mut n = 0;
                while let Some(args) = dec.decode(buf, &limits).expect("well-formed") {
                    n += args.len();
                }
                assert_eq!(n, 48);
                black_box(n)
            },
            BatchSize::SmallInput,
        )
    });

    const BIG: usize = 1 << 20;
    let mut big = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${BIG}\r\n").into_bytes();
    big.resize(big.len() + BIG, b'x');
    big.extend_from_slice(b"\r\n");
    // The payload is cut from the read buffer without copying, so this
    // measures header parsing only: no bytes-per-second figure.
    g.throughput(Throughput::Elements(1));
    g.bench_function("bulk_1mib", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&big[..]),
            |buf| {
                let args = RequestDecoder::new()
                    .decode(buf, &limits)
                    .expect("well-formed")
                    .expect("complete");
                assert_eq!(args[2].len(), BIG);
                black_box(args)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let mut buf = Vec::with_capacity(64 * 1024);

    g.throughput(Throughput::Elements(16));
    g.bench_function("ok_x16", |b| {
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, Proto::Resp2);
            for _ in 0..16 {
                out.ok();
            }
            black_box(buf.len())
        })
    });
    g.bench_function("bulk_5b_x16", |b| {
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, Proto::Resp2);
            for _ in 0..16 {
                out.bulk(black_box(b"value"));
            }
            black_box(buf.len())
        })
    });
    g.bench_function("int_x16", |b| {
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, Proto::Resp2);
            for i in 0..16i64 {
                out.int(black_box(i * 1_000_003));
            }
            black_box(buf.len())
        })
    });
    g.throughput(Throughput::Elements(100));
    g.bench_function("array_100_bulks", |b| {
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, Proto::Resp2);
            out.array(100);
            for _ in 0..100 {
                out.bulk(black_box(b"member:0123456789"));
            }
            black_box(buf.len())
        })
    });
    // ZRANGE WITHSCORES-like replies: doubles are formatted as %.17g.
    g.bench_function("map_50_bulk_double_resp3", |b| {
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, Proto::Resp3);
            out.map(50);
            for i in 0..50 {
                out.bulk(black_box(b"field"));
                out.double(black_box(i as f64 + 0.5));
            }
            black_box(buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
