//! Bitmaps and bit fields over byte strings: the data operations behind
//! SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD.
//!
//! Bit 0 is the most significant bit of byte 0, as in Redis. Nothing here
//! knows RESP or the keyspace; callers grow the string before writing.

/// The unit of BITCOUNT / BITPOS ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Bit,
}

/// Turns a Redis `start end` pair (negative counts from the end) over a
/// string of `len` bytes into an inclusive range of bit positions, or None
/// when the range is empty. `end` None means "to the end of the string".
pub fn resolve_range(len: usize, start: i64, end: Option<i64>, unit: Unit) -> Option<(u64, u64)> {
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => (len as i64) << 3,
    };
    let mut start = if start < 0 {
        start.saturating_add(total)
    } else {
        start
    };
    let mut end = match end {
        Some(e) if e < 0 => e.saturating_add(total),
        Some(e) => e,
        None => total - 1,
    };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    Some(match unit {
        Unit::Byte => ((start as u64) << 3, ((end as u64) << 3) + 7),
        Unit::Bit => (start as u64, end as u64),
    })
}

/// The bit at `offset`; bits past the end are 0.
#[inline]
pub fn get_bit(s: &[u8], offset: u64) -> bool {
    let byte = offset >> 3;
    byte < s.len() as u64 && s[byte as usize] & (0x80 >> (offset & 7)) != 0
}

/// Sets or clears the bit at `offset` (which must lie inside `s`) and
/// returns its previous value.
#[inline]
pub fn set_bit(s: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = &mut s[(offset >> 3) as usize];
    let mask = 0x80 >> (offset & 7);
    let old = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

/// Number of set bits in `s`, a 64-bit word at a time.
pub fn popcount(s: &[u8]) -> u64 {
    // Four independent accumulators keep the popcnt units busy.
    let mut blocks = s.chunks_exact(32);
    let (mut a, mut b, mut c, mut d) = (0u64, 0u64, 0u64, 0u64);
    for blk in &mut blocks {
        a += word(&blk[0..8]).count_ones() as u64;
        b += word(&blk[8..16]).count_ones() as u64;
        c += word(&blk[16..24]).count_ones() as u64;
        d += word(&blk[24..32]).count_ones() as u64;
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for w in &mut words {
        a += word(w).count_ones() as u64;
    }
    for &byte in words.remainder() {
        b += byte.count_ones() as u64;
    }
    a + b + c + d
}

/// Eight bytes as a big-endian word (bit 0 of the bitmap is its top bit).
#[inline]
fn word(b: &[u8]) -> u64 {
    u64::from_be_bytes(b.try_into().expect("callers pass 8-byte chunks"))
}

/// Masks of the in-range bits of the first and last byte of an inclusive
/// bit range.
#[inline]
fn edge_masks(first: u64, last: u64) -> (u8, u8) {
    (0xff >> (first & 7), 0xff << (7 - (last & 7)))
}

/// Number of set bits at positions `first..=last`, which must lie inside `s`.
pub fn count_range(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let (head, tail) = edge_masks(first, last);
    if fb == lb {
        return (s[fb] & head & tail).count_ones() as u64;
    }
    (s[fb] & head).count_ones() as u64
        + popcount(&s[fb + 1..lb])
        + (s[lb] & tail).count_ones() as u64
}

/// Position of the first bit equal to `bit` at positions `first..=last`,
/// which must lie inside `s`.
pub fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let (head, tail) = edge_masks(first, last);
    // Looking for a 0 is looking for a 1 in the complement.
    let flip8 = if bit { 0 } else { 0xff };
    let probe = |at: usize, mask: u8| {
        let v = (s[at] ^ flip8) & mask;
        (v != 0).then(|| ((at as u64) << 3) + v.leading_zeros() as u64)
    };
    if fb == lb {
        return probe(fb, head & tail);
    }
    if let Some(p) = probe(fb, head) {
        return Some(p);
    }
    let flip64 = if bit { 0 } else { u64::MAX };
    let mut at = fb + 1;
    let mut words = s[at..lb].chunks_exact(8);
    for w in &mut words {
        let v = word(w) ^ flip64;
        if v != 0 {
            return Some(((at as u64) << 3) + v.leading_zeros() as u64);
        }
        at += 8;
    }
    for _ in words.remainder() {
        if let Some(p) = probe(at, 0xff) {
            return Some(p);
        }
        at += 1;
    }
    probe(lb, tail)
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Combines `srcs` (shorter ones zero-padded to the longest); NOT takes
/// exactly one source. The result is as long as the longest source.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let Some((first, rest)) = srcs.split_first() else {
        return Vec::new();
    };
    let mut out = vec![0u8; maxlen];
    out[..first.len()].copy_from_slice(first);
    // Plain zipped loops: the compiler vectorizes them.
    match op {
        BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o &= b);
                out[s.len()..].fill(0);
            }
        }
        BitOp::Or => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o |= b);
            }
        }
        BitOp::Xor => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o ^= b);
            }
        }
    }
    out
}

/// A BITFIELD integer type: `i1`..`i64` or `u1`..`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

impl FieldType {
    /// Parses `i16`, `u8`, ...; u64 is refused because replies are signed.
    pub fn parse(s: &[u8]) -> Option<FieldType> {
        let (&sign, digits) = s.split_first()?;
        let signed = match sign {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let bits = crate::util::num::string2ll(digits)?;
        let max = if signed { 64 } else { 63 };
        (1..=max).contains(&bits).then_some(FieldType {
            signed,
            bits: bits as u32,
        })
    }
}

/// What BITFIELD does when a SET or INCRBY does not fit the type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (two's complement for signed types).
    Wrap,
    /// Clamp to the type's minimum or maximum.
    Sat,
    /// Leave the field unchanged and report the failure.
    Fail,
}

/// The raw bits of the field at `offset`; bits past the end of `s` read as 0.
pub fn get_field(s: &[u8], offset: u64, bits: u32) -> u64 {
    debug_assert!((1..=64).contains(&bits));
    // A 64-bit field at an odd offset spans 9 bytes: read a 72-bit window.
    let byte = offset >> 3;
    let mut window: u128 = 0;
    for i in 0..9u64 {
        let b = usize::try_from(byte + i)
            .ok()
            .and_then(|at| s.get(at))
            .copied()
            .unwrap_or(0);
        window = (window << 8) | b as u128;
    }
    let shift = 72 - (offset & 7) as u32 - bits;
    (window >> shift) as u64 & mask(bits)
}

/// The field at `offset` as a signed integer (sign-extended).
pub fn get_field_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    sign_extend(get_field(s, offset, bits), bits)
}

/// Writes the low `bits` bits of `value` at `offset`; the field must lie
/// inside `s`.
pub fn set_field(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    let byte = (offset >> 3) as usize;
    let end = s.len().min(byte + 9);
    let mut window: u128 = 0;
    for i in byte..byte + 9 {
        window = (window << 8) | s.get(i).copied().unwrap_or(0) as u128;
    }
    let shift = 72 - (offset & 7) as u32 - bits;
    let m = (mask(bits) as u128) << shift;
    window = (window & !m) | (((value & mask(bits)) as u128) << shift);
    for (i, b) in s[byte..end].iter_mut().enumerate() {
        *b = (window >> (64 - 8 * i as u32)) as u8;
    }
}

#[inline]
fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[inline]
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | !mask(bits)) as i64
    } else {
        v as i64
    }
}

/// `value + incr` as a signed `bits`-wide field under `ow`; None when it
/// overflows and `ow` is [`Overflow::Fail`]. A SET is an add of 0 to the
/// new value.
pub fn add_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = (1i128 << (bits - 1)) - 1;
    let min = -max - 1;
    let sum = value as i128 + incr as i128;
    if (min..=max).contains(&sum) {
        return Some(sum as i64);
    }
    match ow {
        Overflow::Wrap => Some(sign_extend(
            (value as u64).wrapping_add(incr as u64) & mask(bits),
            bits,
        )),
        Overflow::Sat => Some(if sum > max { max as i64 } else { min as i64 }),
        Overflow::Fail => None,
    }
}

/// `value + incr` as an unsigned `bits`-wide field under `ow`; None when it
/// overflows and `ow` is [`Overflow::Fail`].
pub fn add_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = mask(bits);
    let sum = value as i128 + incr as i128;
    if (0..=max as i128).contains(&sum) {
        return Some(sum as u64);
    }
    match ow {
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
        Overflow::Sat => Some(if sum > 0 { max } else { 0 }),
        Overflow::Fail => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference implementations.
    fn naive_count(s: &[u8], first: u64, last: u64) -> u64 {
        (first..=last).filter(|&i| get_bit(s, i)).count() as u64
    }

    fn naive_find(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
        (first..=last).find(|&i| get_bit(s, i) == bit)
    }

    fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn get_and_set_bits_msb_first() {
        let mut s = vec![0u8; 2];
        assert!(!set_bit(&mut s, 0, true));
        assert!(!set_bit(&mut s, 9, true));
        assert_eq!(s, [0x80, 0x40]);
        assert!(set_bit(&mut s, 9, false));
        assert_eq!(s, [0x80, 0x00]);
        assert!(get_bit(&s, 0));
        assert!(!get_bit(&s, 1));
        assert!(!get_bit(&s, 1 << 40));
    }

    #[test]
    fn popcount_matches_naive_at_every_length() {
        let data = pseudo_random(200, 7);
        for len in 0..data.len() {
            let s = &data[..len];
            let expect = s.iter().map(|b| b.count_ones() as u64).sum::<u64>();
            assert_eq!(popcount(s), expect, "len {len}");
        }
    }

    #[test]
    fn count_and_find_match_naive_on_all_small_ranges() {
        let mut data = pseudo_random(40, 3);
        data[10..30].fill(0xff);
        let zeros = [0u8; 40];
        for s in [&data[..], &zeros[..]] {
            let bits = s.len() as u64 * 8;
            for first in (0..bits).step_by(5) {
                for last in (first..bits).step_by(3) {
                    assert_eq!(count_range(s, first, last), naive_count(s, first, last));
                    for bit in [false, true] {
                        assert_eq!(
                            find_bit(s, bit, first, last),
                            naive_find(s, bit, first, last)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn ranges_follow_redis_index_rules() {
        assert_eq!(resolve_range(4, 0, Some(-1), Unit::Byte), Some((0, 31)));
        assert_eq!(resolve_range(4, 1, Some(1), Unit::Byte), Some((8, 15)));
        assert_eq!(resolve_range(4, 4, Some(10), Unit::Byte), None);
        assert_eq!(resolve_range(4, -100, Some(100), Unit::Byte), Some((0, 31)));
        assert_eq!(resolve_range(4, 5, Some(-3), Unit::Bit), Some((5, 29)));
        assert_eq!(resolve_range(4, 32, Some(87), Unit::Bit), None);
        assert_eq!(resolve_range(0, 0, None, Unit::Byte), None);
        assert_eq!(
            resolve_range(2, i64::MIN, Some(i64::MAX), Unit::Bit),
            Some((0, 15))
        );
    }

    #[test]
    fn bitop_pads_with_zeros() {
        let a: &[u8] = &[0xf0, 0xff];
        let b: &[u8] = &[0x3c];
        assert_eq!(bitop(BitOp::And, &[a, b]), [0x30, 0x00]);
        assert_eq!(bitop(BitOp::Or, &[a, b]), [0xfc, 0xff]);
        assert_eq!(bitop(BitOp::Xor, &[a, b]), [0xcc, 0xff]);
        assert_eq!(bitop(BitOp::Not, &[b]), [0xc3]);
        assert_eq!(bitop(BitOp::And, &[b, a]), [0x30, 0x00]);
        assert_eq!(bitop(BitOp::Or, &[&[], &[]]), Vec::<u8>::new());
    }

    #[test]
    fn fields_read_and_write_across_bytes() {
        let mut s = vec![0u8; 10];
        set_field(&mut s, 3, 64, 0x8123_4567_89ab_cdef);
        assert_eq!(get_field(&s, 3, 64), 0x8123_4567_89ab_cdef);
        assert_eq!(get_field_signed(&s, 3, 64), 0x8123_4567_89ab_cdefu64 as i64);
        assert_eq!(s[0], 0x10);
        assert_eq!(get_field(&s, 0, 3), 0);
        set_field(&mut s, 5, 5, 0b10101);
        assert_eq!(get_field(&s, 5, 5), 0b10101);
        assert_eq!(get_field_signed(&s, 5, 5), -11);
        assert_eq!(get_field(&s, 3, 64) >> 59, 0b10101);
        // Past the end reads as zeros.
        assert_eq!(get_field(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_field(&[], u64::MAX - 100, 64), 0);
        // A field that ends exactly at the last byte.
        let mut t = vec![0u8; 1];
        set_field(&mut t, 0, 8, 0xa5);
        assert_eq!(t, [0xa5]);
    }

    #[test]
    fn field_types_parse_as_redis() {
        assert_eq!(
            FieldType::parse(b"i64"),
            Some(FieldType {
                signed: true,
                bits: 64
            })
        );
        assert_eq!(
            FieldType::parse(b"u63"),
            Some(FieldType {
                signed: false,
                bits: 63
            })
        );
        assert_eq!(FieldType::parse(b"u64"), None);
        assert_eq!(FieldType::parse(b"i0"), None);
        assert_eq!(FieldType::parse(b"x8"), None);
        assert_eq!(FieldType::parse(b"i"), None);
        assert_eq!(FieldType::parse(b""), None);
    }

    #[test]
    fn overflow_policies() {
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(add_unsigned(250, 10, 8, Overflow::Fail), None);
        assert_eq!(add_unsigned(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(add_unsigned(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(add_unsigned(u64::MAX, 0, 8, Overflow::Sat), Some(255));
        assert_eq!(add_unsigned(u64::MAX, 0, 8, Overflow::Wrap), Some(255));
        assert_eq!(add_signed(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(add_signed(120, 10, 8, Overflow::Sat), Some(127));
        assert_eq!(add_signed(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(add_signed(-120, -10, 8, Overflow::Wrap), Some(126));
        assert_eq!(add_signed(255, 0, 8, Overflow::Wrap), Some(-1));
        assert_eq!(add_signed(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(add_signed(i64::MAX, 1, 64, Overflow::Sat), Some(i64::MAX));
        assert_eq!(add_signed(i64::MIN, -1, 64, Overflow::Fail), None);
        assert_eq!(add_signed(-1, 0, 1, Overflow::Fail), Some(-1));
        assert_eq!(add_signed(1, 0, 1, Overflow::Sat), Some(0));
    }
}
