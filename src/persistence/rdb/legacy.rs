//! The compact encodings of older RDB files, read only: ziplists (lists,
//! hashes and sorted sets up to Redis 6.2, quicklist nodes) and zipmaps
//! (hashes up to Redis 2.4). Both are validated completely, as Redis does
//! before converting them, and come back as plain entries.

use crate::keyspace::listpack::LpElem;

/// Header: zlbytes (u32), zltail (u32), zllen (u16).
const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xFF;

/// Reads every entry of a ziplist, or None when anything about it is
/// invalid: header fields, an entry's encoding or length reaching past
/// the end, a prevlen that is not the previous entry's size, the tail
/// offset, the terminator or the entry count.
pub fn ziplist_entries(zl: &[u8]) -> Option<Vec<LpElem<'_>>> {
    let size = zl.len();
    if size < ZL_HEADER + 1 {
        return None;
    }
    let u32_at = |i: usize| -> Option<u32> {
        let b = zl.get(i..i + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if u32_at(0)? as usize != size || zl[size - 1] != ZL_END {
        return None;
    }
    let last = size - 1;
    let tail = u32_at(4)? as usize;
    if tail > last {
        return None;
    }
    let header_count = u16::from_le_bytes([zl[8], zl[9]]);
    // Every entry takes at least two bytes.
    let mut out = Vec::with_capacity((size - ZL_HEADER) / 2);
    let mut p = ZL_HEADER;
    let mut prev_raw = 0usize;
    let mut prev_start = None;
    while zl[p] != ZL_END {
        let (prevlen, plen) = if zl[p] < 254 {
            (zl[p] as usize, 1)
        } else {
            if p + 5 > last {
                return None;
            }
            (u32_at(p + 1)? as usize, 5)
        };
        let e = p + plen;
        if e > last {
            return None;
        }
        let enc = zl[e];
        // (header bytes after prevlen, data length)
        let (lensize, len) = match enc {
            0x00..=0x3F => (1, (enc & 0x3F) as usize),
            0x40..=0x7F => {
                if e + 1 > last {
                    return None;
                }
                (2, (((enc & 0x3F) as usize) << 8) | zl[e + 1] as usize)
            }
            0x80..=0xBF => {
                if e + 4 > last {
                    return None;
                }
                let b = &zl[e + 1..e + 5];
                (5, u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            }
            0xC0 => (1, 2),
            0xD0 => (1, 4),
            0xE0 => (1, 8),
            0xF0 => (1, 3),
            0xFE => (1, 1),
            0xF1..=0xFD => (1, 0),
            _ => return None,
        };
        let header = plen + lensize;
        if p + header > last || p.checked_add(header)?.checked_add(len)? > last {
            return None;
        }
        if prevlen != prev_raw {
            return None;
        }
        let data = &zl[p + header..p + header + len];
        let elem = match enc {
            0x00..=0xBF => LpElem::Str(data),
            0xC0 => LpElem::Int(i16::from_le_bytes([data[0], data[1]]) as i64),
            0xD0 => LpElem::Int(i32::from_le_bytes([data[0], data[1], data[2], data[3]]) as i64),
            0xE0 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(data);
                LpElem::Int(i64::from_le_bytes(a))
            }
            0xF0 => LpElem::Int((i32::from_le_bytes([0, data[0], data[1], data[2]]) >> 8) as i64),
            0xFE => LpElem::Int(data[0] as i8 as i64),
            _ => LpElem::Int((enc & 0x0F) as i64 - 1),
        };
        out.push(elem);
        prev_raw = header + len;
        prev_start = Some(p);
        p += prev_raw;
    }
    if p != last {
        return None;
    }
    if let Some(s) = prev_start {
        if s != tail {
            return None;
        }
    }
    if header_count != u16::MAX && header_count as usize != out.len() {
        return None;
    }
    Some(out)
}

const ZM_BIGLEN: u8 = 254;
const ZM_END: u8 = 0xFF;

/// Reads every (field, value) of a zipmap, or None when it is invalid
/// (lengths reaching past the end, a long length encoding of a short
/// length, no entries, a count byte that disagrees).
pub fn zipmap_pairs(zm: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let size = zm.len();
    if size < 2 || zm[size - 1] != ZM_END {
        return None;
    }
    let last = size - 1;
    let out_of_range = |p: usize| p < 2 || p > last;
    // (encoded size, length) of the length field at p; p + 5 <= last checked by caller.
    let read_len = |p: usize| -> Option<(usize, usize)> {
        let s = if zm[p] < ZM_BIGLEN { 1 } else { 5 };
        if out_of_range(p + s) {
            return None;
        }
        let l = if s == 1 {
            zm[p] as usize
        } else {
            u32::from_le_bytes([zm[p + 1], zm[p + 2], zm[p + 3], zm[p + 4]]) as usize
        };
        if l < ZM_BIGLEN as usize && s != 1 {
            return None;
        }
        Some((s, l))
    };
    let mut out = Vec::new();
    let mut p = 1;
    while zm[p] != ZM_END {
        let (s, l) = read_len(p)?;
        p += s;
        let field_at = p;
        p = p.checked_add(l)?;
        if out_of_range(p) {
            return None;
        }
        let field = &zm[field_at..p];
        let (s, l) = read_len(p)?;
        p += s;
        let free = zm[p] as usize;
        p += 1;
        let value_at = p;
        p = p.checked_add(l)?.checked_add(free)?;
        if out_of_range(p) {
            return None;
        }
        out.push((field, &zm[value_at..value_at + l]));
    }
    if out.is_empty() {
        return None;
    }
    if zm[0] != ZM_BIGLEN && zm[0] as usize != out.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist of "a", "b" as Redis writes it (from corrupt-dump.tcl's
    /// valid variant).
    fn sample() -> Vec<u8> {
        vec![
            0x13, 0, 0, 0, 0x0E, 0, 0, 0, 0x02, 0, 0x00, 0x02, b'a', b'b', 0x04, 0x02, b'c', b'd',
            0xFF,
        ]
    }

    #[test]
    fn reads_valid_ziplist() {
        let zl = sample();
        let e = ziplist_entries(&zl).unwrap();
        assert_eq!(e, vec![LpElem::Str(b"ab"), LpElem::Str(b"cd")]);
    }

    #[test]
    fn integers() {
        // prevlen 0, enc 0xF2 (imm 1); prevlen 2, enc 0xFE int8 -5;
        // prevlen 3, enc 0xC0 int16 300; prevlen 4, enc 0xF0 24-bit -2.
        let mut zl = vec![0u8; 10];
        zl.extend_from_slice(&[0x00, 0xF2]);
        zl.extend_from_slice(&[0x02, 0xFE, (-5i8) as u8]);
        zl.extend_from_slice(&[0x03, 0xC0, 0x2C, 0x01]);
        let tail = zl.len();
        zl.extend_from_slice(&[0x04, 0xF0, 0xFE, 0xFF, 0xFF]);
        zl.push(0xFF);
        let n = zl.len() as u32;
        zl[0..4].copy_from_slice(&n.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&4u16.to_le_bytes());
        let e = ziplist_entries(&zl).unwrap();
        assert_eq!(
            e,
            vec![
                LpElem::Int(1),
                LpElem::Int(-5),
                LpElem::Int(300),
                LpElem::Int(-2)
            ]
        );
    }

    #[test]
    fn rejects_bad_ziplists() {
        let good = sample();
        let mut bad_prev = good.clone();
        bad_prev[14] = 0x0E;
        assert!(ziplist_entries(&bad_prev).is_none());
        let mut bad_count = good.clone();
        bad_count[8] = 3;
        assert!(ziplist_entries(&bad_count).is_none());
        let mut bad_tail = good.clone();
        bad_tail[4] = 0x0A;
        assert!(ziplist_entries(&bad_tail).is_none());
        let mut bad_bytes = good.clone();
        bad_bytes[0] = 0x14;
        assert!(ziplist_entries(&bad_bytes).is_none());
        for cut in 0..good.len() {
            assert!(ziplist_entries(&good[..cut]).is_none());
        }
        for i in 0..good.len() {
            for b in [0u8, 0x3F, 0x40, 0x80, 0xFE, 0xFF] {
                let mut z = good.clone();
                z[i] = b;
                let _ = ziplist_entries(&z);
            }
        }
    }

    #[test]
    fn zipmaps() {
        // 2 pairs: "a" => "bc" (1 free byte), "de" => "f".
        let zm = [
            2, 1, b'a', 2, 1, b'b', b'c', 0, 2, b'd', b'e', 1, 0, b'f', 0xFF,
        ];
        let p = zipmap_pairs(&zm).unwrap();
        assert_eq!(p, vec![(&b"a"[..], &b"bc"[..]), (&b"de"[..], &b"f"[..])]);
        assert!(zipmap_pairs(&[0, 0xFF]).is_none(), "empty");
        let mut wrong_count = zm;
        wrong_count[0] = 3;
        assert!(zipmap_pairs(&wrong_count).is_none());
        for cut in 0..zm.len() {
            assert!(zipmap_pairs(&zm[..cut]).is_none());
        }
    }
}
