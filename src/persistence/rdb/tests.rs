//! Round trips through the writer and the loader.

use super::*;
use crate::keyspace::hash::Hash;
use crate::keyspace::list::{End, List};
use crate::keyspace::set::Set;
use crate::keyspace::zset::ZSet;

pub(crate) fn enc() -> Encodings {
    Encodings {
        hash: hash::Limits {
            max_entries: 512,
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

fn values() -> Vec<Value> {
    let e = enc();
    let mut out = vec![
        Value::string(b"12"),
        Value::string(b"-70000"),
        Value::string(b"12345678901234"),
        Value::string(b"hello"),
        Value::string(&[b'x'; 100]),
        Value::string(b"not compressible 0123456789abcdefghij"),
        Value::string(b""),
    ];
    let mut l = List::new();
    for i in 0..1000 {
        l.push(End::Tail, format!("item-{i}").as_bytes(), e.list_fill);
    }
    out.push(Value::from_list(l));
    let mut l = List::new();
    l.push_plain_node(vec![b'p'; 300]);
    l.push(End::Tail, b"7", e.list_fill);
    out.push(Value::from_list(l));
    for n in [3usize, 600] {
        let mut h = Hash::default();
        for i in 0..n {
            h.set(
                format!("f{i}").as_bytes(),
                format!("{i}").as_bytes(),
                e.hash,
            );
        }
        out.push(Value::from_hash(h));
        let mut s = Set::new_intset();
        for i in 0..n {
            s.add(format!("{}", i * 1000).as_bytes(), e.set_max_intset);
        }
        out.push(Value::from_set(s));
        let mut s = Set::new_intset();
        for i in 0..n {
            s.add(format!("m{i}").as_bytes(), e.set_max_intset);
        }
        out.push(Value::from_set(s));
        let mut pairs: Vec<(Vec<u8>, f64)> = (0..n)
            .map(|i| (format!("z{i}").into_bytes(), i as f64 / 3.0))
            .collect();
        pairs.push((b"neg".to_vec(), f64::NEG_INFINITY));
        pairs.push((b"pos".to_vec(), f64::INFINITY));
        pairs.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then(a.0.cmp(&b.0)));
        out.push(Value::from_zset(ZSet::from_sorted(&pairs, e.zset)));
    }
    out
}

fn same(a: &Value, b: &Value) {
    assert_eq!(a.encoding(), b.encoding());
    assert_eq!(a.kind(), b.kind());
    let mut x = Vec::new();
    let mut y = Vec::new();
    encode::value(&mut x, a, false);
    encode::value(&mut y, b, false);
    if a.as_set().is_some_and(|s| s.as_intset().is_none())
        || a.as_hash().is_some_and(|h| h.listpack_bytes().is_none())
    {
        // Table order differs; compare sizes and lengths.
        assert_eq!(x.len(), y.len());
    } else {
        assert_eq!(x, y);
    }
}

#[test]
fn dump_restore_round_trip() {
    for v in values() {
        for compress in [false, true] {
            let p = dump_value(&v, compress);
            let back = restore_value(&p, &enc(), true).unwrap();
            same(&v, &back);
        }
    }
}

#[test]
fn restore_checks_version_and_checksum() {
    let mut p = dump_value(&Value::string(b"x"), false);
    let n = p.len();
    p[n - 1] ^= 1;
    assert!(matches!(
        restore_value(&p, &enc(), false),
        Err(RdbError::Checksum { .. })
    ));
    let mut p = dump_value(&Value::string(b"x"), false);
    p[n - 10] = 13;
    assert!(matches!(
        restore_value(&p, &enc(), false),
        Err(RdbError::Format(_))
    ));
    assert!(restore_value(b"short", &enc(), false).is_err());
}

/// Redis 7.4 stamps payloads with RDB 12; a string's encoding is unchanged.
#[test]
fn restore_reads_rdb12_payloads_and_unchecksummed_ones() {
    let mut p = dump_value(&Value::string(b"x"), false);
    let n = p.len();
    p[n - 10] = 12;
    let crc = crate::persistence::rdb::crc64::crc64(0, &p[..n - 8]);
    p[n - 8..].copy_from_slice(&crc.to_le_bytes());
    same(
        &restore_value(&p, &enc(), false).unwrap(),
        &Value::string(b"x"),
    );
    // A zero checksum field is "not computed", as in an RDB file.
    p[n - 8..].fill(0);
    same(
        &restore_value(&p, &enc(), false).unwrap(),
        &Value::string(b"x"),
    );
    // The value itself is still validated: a length far beyond the payload
    // is a format error of the value (RESTORE: "Bad data format").
    let mut huge = vec![0u8, 0x81];
    huge.extend_from_slice(&0xFFFF_FFFF_FFFF_FFF7u64.to_be_bytes());
    huge.extend_from_slice(&[12, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let err = restore_value(&huge, &enc(), false).unwrap_err();
    assert!(
        !matches!(err, RdbError::Format(_) | RdbError::Checksum { .. }),
        "{err}"
    );
}

fn save_opts() -> SaveOptions {
    SaveOptions {
        compress: true,
        checksum: true,
        access: AccessInfo::None,
        extra_aux: vec![("repl-offset".into(), b"0".to_vec())],
        aof_base: false,
        used_mem: 1000,
    }
}

fn load_opts() -> LoadOptions {
    LoadOptions {
        enc: enc(),
        deep_sanitize: true,
        databases: 16,
        drop_expired_before: None,
    }
}

#[test]
fn file_round_trip() {
    let mut ks = Keyspace::new(16);
    for (i, v) in values().into_iter().enumerate() {
        let db = &mut ks.dbs[i % 3];
        let k = format!("key:{i}");
        db.set(k.as_bytes(), v, false);
        if i % 4 == 0 {
            db.set_expire(k.as_bytes(), 4_000_000_000_000 + i as i64);
        }
    }
    let mut n = 0;
    let bytes = write_keyspace(&ks, save_opts(), Vec::new(), &mut |c| n = c).unwrap();
    assert_eq!(n as usize, ks.total_keys());
    assert_eq!(&bytes[..9], b"REDIS0010");
    let loaded = load(&bytes, &load_opts(), &mut |_| {}).unwrap();
    assert_eq!(loaded.keys_loaded as usize, ks.total_keys());
    assert_eq!(loaded.version, 10);
    let names: Vec<&[u8]> = loaded.aux.iter().map(|(k, _)| &k[..]).collect();
    assert_eq!(
        names,
        [
            &b"redis-ver"[..],
            b"redis-bits",
            b"ctime",
            b"used-mem",
            b"repl-offset",
            b"aof-base"
        ]
    );
    for (a, b) in ks.dbs.iter().zip(&loaded.keyspace.dbs) {
        assert_eq!(a.len(), b.len());
        assert_eq!(a.expires_len(), b.expires_len());
        for e in a.iter() {
            let f = b.get_raw(&e.key).unwrap();
            same(&e.value, &f.value);
            assert_eq!(a.expire_of(&e.key), b.expire_of(&e.key));
        }
    }
    // A flipped byte in the body fails the checksum (or the parse).
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    assert!(load(&bad, &load_opts(), &mut |_| {}).is_err());
    // Without a checksum, eight zero bytes and no check.
    let mut o = save_opts();
    o.checksum = false;
    let bytes = write_keyspace(&ks, o, Vec::new(), &mut |_| {}).unwrap();
    assert_eq!(&bytes[bytes.len() - 8..], &[0; 8]);
    assert!(load(&bytes, &load_opts(), &mut |_| {}).is_ok());
}

#[test]
fn expired_keys_are_dropped_on_primary_load() {
    let mut ks = Keyspace::new(16);
    ks.dbs[0].set(b"old", Value::string(b"1"), false);
    ks.dbs[0].set_expire(b"old", 1000);
    ks.dbs[0].set(b"new", Value::string(b"1"), false);
    let bytes = write_keyspace(&ks, save_opts(), Vec::new(), &mut |_| {}).unwrap();
    let mut o = load_opts();
    o.drop_expired_before = Some(2000);
    let l = load(&bytes, &o, &mut |_| {}).unwrap();
    assert_eq!((l.keys_loaded, l.expired_skipped), (1, 1));
    o.drop_expired_before = None;
    let l = load(&bytes, &o, &mut |_| {}).unwrap();
    assert_eq!((l.keys_loaded, l.expired_skipped), (2, 0));
}

#[test]
fn access_metadata_round_trips() {
    let mut ks = Keyspace::new(1);
    ks.dbs[0].set(b"k", Value::string(b"v"), false);
    for (access, check) in [(AccessInfo::Lfu, 0u8), (AccessInfo::Lru, 1)] {
        let mut o = save_opts();
        o.access = access;
        let bytes = write_keyspace(&ks, o, Vec::new(), &mut |_| {}).unwrap();
        let opcode = if check == 0 {
            opcode::FREQ
        } else {
            opcode::IDLE
        };
        assert!(bytes.contains(&opcode));
        let mut lo = load_opts();
        lo.databases = 1;
        assert!(load(&bytes, &lo, &mut |_| {}).is_ok());
    }
}

#[test]
fn bad_headers() {
    let lo = load_opts();
    assert!(matches!(
        load(b"REDIX0010", &lo, &mut |_| {}),
        Err(RdbError::Format(_))
    ));
    assert!(matches!(
        load(b"REDIS0012\xff", &lo, &mut |_| {}),
        Err(RdbError::Format(_))
    ));
    assert!(matches!(
        load(b"RED", &lo, &mut |_| {}),
        Err(RdbError::Format(_))
    ));
    // Version 4 has no checksum trailer.
    assert!(load(b"REDIS0004\xff", &lo, &mut |_| {}).is_ok());
    assert!(
        load(b"REDIS0010\xfe\x20", &lo, &mut |_| {}).is_err(),
        "db 32"
    );
}
