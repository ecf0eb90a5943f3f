//! The walk against a keyspace that changes under it: the file must hold
//! the keyspace as it was at the start, whatever happens meanwhile.

use super::*;
use crate::keyspace::hash::Hash;
use crate::keyspace::list::{End, List};
use crate::keyspace::set::Set;
use crate::keyspace::zset::ZSet;
use crate::keyspace::Value;
use crate::persistence::rdb::{AccessInfo, LoadOptions};

fn enc() -> rdb::Encodings {
    crate::persistence::rdb::tests::enc()
}

fn opts() -> SaveOptions {
    SaveOptions {
        compress: true,
        checksum: true,
        access: AccessInfo::None,
        extra_aux: Vec::new(),
        aof_base: false,
        used_mem: 0,
    }
}

/// A keyspace of `n` small keys per database in dbs 0..3, some with
/// deadlines, and one big value of each chunked kind in db 0.
fn populate(n: usize) -> Keyspace {
    let e = enc();
    let mut ks = Keyspace::new(4);
    for d in 0..3 {
        let db = &mut ks.dbs[d];
        for i in 0..n {
            let k = format!("k{d}:{i}");
            db.set(
                k.as_bytes(),
                Value::string(format!("v{i}").as_bytes()),
                false,
            );
            if i % 7 == 0 {
                db.set_expire(k.as_bytes(), i64::MAX - i as i64);
            }
        }
    }
    let big = BIG_ELEMS * 3;
    let mut z = ZSet::default();
    let mut s = Set::new_table();
    let mut h = Hash::new_table();
    let mut l = List::new();
    for i in 0..big {
        let m = format!("member-{i}");
        z.insert_new(m.as_bytes(), i as f64 / 3.0, e.zset);
        s.add(m.as_bytes(), e.set_max_intset);
        h.set(m.as_bytes(), format!("{i}").as_bytes(), e.hash);
        l.push(End::Tail, m.as_bytes(), e.list_fill);
    }
    let db = &mut ks.dbs[0];
    db.set(b"bigz", Value::from_zset(z), false);
    db.set(b"bigs", Value::from_set(s), false);
    db.set(b"bigh", Value::from_hash(h), false);
    db.set(b"bigl", Value::from_list(l), false);
    db.set_expire(b"bigz", i64::MAX - 1);
    add_big_strings(&mut ks.dbs[1]);
    ks
}

/// Two strings above [`BIG_STRING`]: text that compresses, stored as SET
/// stores it, and xorshift noise that does not, in the growable form APPEND
/// leaves.
fn add_big_strings(db: &mut crate::keyspace::Db) {
    let text: Vec<u8> = (0..3 * BIG_STRING + 12345)
        .map(|i| b"snapshot "[i % 9])
        .collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..2 * BIG_STRING + 7)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    db.set(b"bigstr-text", Value::string(&text), false);
    let mut raw = Value::string(&noise);
    raw.make_raw().expect("a string");
    db.set(b"bigstr-raw", raw, false);
}

struct Run {
    dir: std::path::PathBuf,
    snap: Forkless,
}

fn start(ks: &mut Keyspace, name: &str, high_water: u64) -> Run {
    start_v(ks, name, high_water, 1)
}

fn start_v(ks: &mut Keyspace, name: &str, high_water: u64, version: u64) -> Run {
    start_with(ks, name, high_water, version, opts())
}

fn start_with(
    ks: &mut Keyspace,
    name: &str,
    high_water: u64,
    version: u64,
    opts: SaveOptions,
) -> Run {
    let dir =
        std::env::temp_dir().join(format!("snapcache-forkless-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let target = Target {
        dir: dir.clone(),
        filename: "dump.rdb".into(),
        pid: std::process::id(),
        incremental_fsync: false,
    };
    let snap = Forkless::start(ks, version, opts, target, high_water, 0).expect("writer");
    Run { dir, snap }
}

/// Steps (one key each) until done, calling `poke` between steps; the
/// keyspace the file loads as.
fn finish(run: &mut Run, ks: &mut Keyspace, poke: impl FnMut(&mut Keyspace, usize)) -> Keyspace {
    load_file(&finish_file(run, ks, poke))
}

/// The keyspace a dump loads as (4 databases, deep sanitization).
fn load_file(bytes: &[u8]) -> Keyspace {
    let lo = LoadOptions {
        enc: enc(),
        deep_sanitize: true,
        databases: 4,
        drop_expired_before: None,
    };
    rdb::load(bytes, &lo, &mut |_| {}).expect("loads").keyspace
}

/// [`finish`], returning the file's bytes.
fn finish_file(
    run: &mut Run,
    ks: &mut Keyspace,
    mut poke: impl FnMut(&mut Keyspace, usize),
) -> Vec<u8> {
    let mut n = 0;
    loop {
        let (step, _) = run.snap.step(ks, Instant::now(), 1);
        if step == Step::Done {
            break;
        }
        if step == Step::Full {
            // The writer drains on its own thread.
            std::thread::yield_now();
        }
        poke(ks, n);
        n += 1;
    }
    let done = run.snap.writer.take_done().expect("once");
    match done.blocking_recv().expect("writer ends") {
        WriterEnd::Saved { .. } => {}
        other => panic!("save failed: {other:?}"),
    }
    let bytes = std::fs::read(run.dir.join("dump.rdb")).expect("dump");
    let _ = std::fs::remove_dir_all(&run.dir);
    bytes
}

#[test]
fn untouched_walk_writes_the_keyspace() {
    let mut ks = populate(3000);
    let want = ks.digest();
    let mut run = start(&mut ks, "plain", 1 << 20);
    let got = finish(&mut run, &mut ks, |_, _| {});
    assert_eq!(got.digest(), want);
    assert_eq!(got.total_keys(), 3 * 3000 + 6);
    assert!(ks.dbs.iter().all(|d| d.cut.is_none()));
}

#[test]
fn writes_during_the_walk_do_not_reach_the_image() {
    let mut ks = populate(3000);
    let want = ks.digest();
    let mut run = start(&mut ks, "writes", 1 << 20);
    let mut steps = 0;
    let got = finish(&mut run, &mut ks, |ks, n| {
        let d = n % 3;
        let db = &mut ks.dbs[d];
        // Overwrite, delete, add, change deadlines, touch big values.
        db.set(format!("k{d}:{n}").as_bytes(), Value::string(b"new"), false);
        db.remove(format!("k{d}:{}", n + 1000).as_bytes());
        db.add(
            SBytes::new(format!("fresh:{n}").as_bytes()),
            Value::string(b"x"),
        );
        db.set_expire(format!("k{d}:{}", n + 5).as_bytes(), 5);
        db.persist(format!("k{d}:{}", n * 7).as_bytes());
        if n == 3 {
            ks.dbs[0].remove(b"bigz");
            ks.dbs[0].set(b"bigs", Value::string(b"replaced"), false);
        }
        if n == 9 {
            // Mid-way through its chunks (the walk does one per step).
            ks.dbs[1].set(b"bigstr-text", Value::string(b"short"), false);
        }
        if n == 12 {
            // A whole database's contents swapped, then one flushed.
            let (a, b) = ks.dbs.split_at_mut(1);
            a[0].swap_contents(&mut b[0]);
        }
        if n == 18 {
            let _ = ks.dbs[2].clear();
        }
        if n == 24 {
            // Moved to db 1 by the swap at step 12.
            let e = ks.dbs[1].remove(b"bigh").expect("still there");
            ks.dbs[3].insert_entry(e, None);
        }
        // Expiry of a key whose deadline has passed.
        let k = format!("k{d}:{}", n + 5);
        ks.dbs[d].peek(k.as_bytes(), 10, crate::keyspace::ExpireMode::Delete);
        steps = n + 1;
    });
    assert_eq!(got.digest(), want);
    // Every change above happened during the walk (33 steps when the
    // writer never falls behind, more when it does).
    assert!(steps > 24, "the walk took only {steps} steps");
}

#[test]
fn replaced_keyspace_is_still_written() {
    let mut ks = populate(2000);
    let want = ks.digest();
    let mut run = start(&mut ks, "reload", 1 << 20);
    for _ in 0..5 {
        run.snap.step(&mut ks, Instant::now(), 1);
    }
    let mut old = std::mem::replace(&mut ks, Keyspace::new(4));
    run.snap.retire_keyspace(&mut old);
    drop(old);
    ks.dbs[0].set(b"after", Value::string(b"1"), false);
    let got = finish(&mut run, &mut ks, |_, _| {});
    assert_eq!(got.digest(), want);
}

#[test]
fn tiny_high_water_mark_reports_full() {
    let mut ks = populate(500);
    let want = ks.digest();
    let mut run = start(&mut ks, "full", 1);
    let mut full = 0;
    let got = finish(&mut run, &mut ks, |_, _| {
        full += 1;
    });
    assert!(full > 0);
    assert_eq!(got.digest(), want);
}

#[test]
fn cancel_removes_the_temp_file() {
    let mut ks = populate(500);
    let mut run = start(&mut ks, "cancel", 1 << 20);
    run.snap.step(&mut ks, Instant::now(), 1);
    run.snap.cancel(&mut ks);
    let done = run.snap.writer.take_done().expect("once");
    assert!(matches!(done.blocking_recv(), Ok(WriterEnd::Cancelled)));
    assert!(ks.dbs.iter().all(|d| d.cut.is_none()));
    assert!(!run
        .dir
        .join(format!("temp-{}-forkless.rdb", std::process::id()))
        .exists());
    assert!(!run.dir.join("dump.rdb").exists());
    let _ = std::fs::remove_dir_all(&run.dir);
}

#[test]
fn marks_left_by_a_cancelled_cut_do_not_hide_entries_from_the_next() {
    let mut ks = populate(3000);
    let mut run = start_v(&mut ks, "stale1", 1 << 20, 1);
    run.snap.step(&mut ks, Instant::now(), 1);
    // Writes mark entries (serialized early) and new keys (skipped).
    for i in 0..500 {
        let d = i % 3;
        ks.dbs[d].set(format!("k{d}:{i}").as_bytes(), Value::string(b"x"), false);
        ks.dbs[d].set(format!("new:{i}").as_bytes(), Value::string(b"y"), false);
    }
    run.snap.cancel(&mut ks);
    let _ = std::fs::remove_dir_all(&run.dir);
    let want = ks.digest();
    let mut run = start_v(&mut ks, "stale2", 1 << 20, 2);
    let got = finish(&mut run, &mut ks, |ks, n| {
        ks.dbs[0].set(
            format!("k0:{}", n + 1000).as_bytes(),
            Value::string(b"z"),
            false,
        );
    });
    assert_eq!(got.digest(), want);
}

fn pacer_shared() -> Shared {
    let sh = Shared::new();
    sh.pace_limit.store(1 << 20, Ordering::Relaxed);
    sh
}

/// At full share the writer never rests; at a share of s percent, work of
/// w owes a rest of w * (100 - s) / s once a slice's worth is done.
#[test]
fn pacer_rests_for_the_share_it_gives_up() {
    use std::time::Duration;
    let sh = pacer_shared();
    let mut p = Pacer::default();
    p.after(Duration::from_millis(5), &sh);
    assert_eq!(sh.paced_ns.load(Ordering::Relaxed), 0);

    sh.pace(50);
    // Under a slice: owed, not yet rested.
    p.after(Duration::from_micros(400), &sh);
    assert_eq!(sh.paced_ns.load(Ordering::Relaxed), 0);
    assert_eq!(p.worked, Duration::from_micros(400));
    // 400 + 800 us of work at 50 %: a rest of at least 1.2 ms.
    p.after(Duration::from_micros(800), &sh);
    assert_eq!(p.worked, Duration::ZERO);
    assert!(sh.paced_ns.load(Ordering::Relaxed) >= 1_200_000);

    // A buffer above the pacing limit: full speed, and the debt is dropped.
    let before = sh.paced_ns.load(Ordering::Relaxed);
    sh.inflight.store(2 << 20, Ordering::SeqCst);
    p.after(Duration::from_millis(3), &sh);
    assert_eq!(p.worked, Duration::ZERO);
    assert_eq!(sh.paced_ns.load(Ordering::Relaxed), before);

    // Shares are clamped to 1..=100.
    sh.pace(0);
    assert_eq!(sh.share.load(Ordering::Relaxed), 1);
    sh.pace(500);
    assert_eq!(sh.share.load(Ordering::Relaxed), 100);
}

/// A big string goes in chunks of [`STRING_CHUNK`] bytes, one per step,
/// compressed whole by the writer when `rdbcompression` is on, as plain
/// length and bytes when it is off; the file holds it exactly either way.
#[test]
fn big_strings_go_in_chunks_compressed_or_not() {
    for compress in [true, false] {
        let mut ks = Keyspace::new(4);
        add_big_strings(&mut ks.dbs[1]);
        ks.dbs[0].set(b"small", Value::string(b"v"), false);
        let want = ks.digest();
        let o = SaveOptions { compress, ..opts() };
        let mut run = start_with(&mut ks, &format!("bigstr-{compress}"), 64 << 20, 1, o);
        let mut steps = 0;
        let bytes = finish_file(&mut run, &mut ks, |_, n| steps = n + 1);
        // 13 + 9 chunks of the strings, plus the small key.
        assert!(
            steps >= (3 * BIG_STRING + 2 * BIG_STRING) / STRING_CHUNK,
            "{steps}"
        );
        assert_eq!(load_file(&bytes).digest(), want, "compress {compress}");
        // LZF shrinks the text and gives up on the noise; off, both stay.
        let strings = 3 * BIG_STRING + 12345 + 2 * BIG_STRING + 7;
        if compress {
            assert!(
                bytes.len() < 2 * BIG_STRING + 3 * BIG_STRING / 2,
                "{}",
                bytes.len()
            );
        } else {
            assert!(bytes.len() > strings, "{}", bytes.len());
        }
    }
}
