//! Strict number parsing with the exact acceptance rules of Redis
//! (util.c): `string2ll`, `string2ull`, `string2d`/`string2ld` and
//! `memtoull`, plus a couple of `strtoll`-style helpers used by the config
//! loader where Redis itself calls `strtoll`.
//!
//! All functions take bytes, never panic, and return `None` where Redis
//! would report a parse failure.

// Shared helpers: not every one is used by the server yet.
#![allow(dead_code)]

/// Redis `LONG_STR_SIZE`: strings of this length or longer are rejected by
/// [`string2ll`].
const LONG_STR_SIZE: usize = 21;
/// Redis `MAX_LONG_DOUBLE_CHARS`.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Parse a signed 64-bit integer exactly like Redis `string2ll`: optional
/// leading `-`, no `+`, no leading zeros (except the string `"0"`), no
/// spaces, no trailing bytes, at most 20 characters, no overflow.
/// `"-0"` is rejected.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parse into an `i64` like Redis `string2l` (identical to [`string2ll`] on
/// 64-bit platforms).
pub fn string2l(s: &[u8]) -> Option<i64> {
    string2ll(s)
}

/// Parse an unsigned 64-bit integer like Redis `string2ull`: first
/// [`string2ll`] (negative results rejected), then a full-string
/// `strtoull` fallback, which — like C — accepts leading whitespace, a sign
/// (a `-` negates modulo 2^64) and leading zeros, but rejects overflow and
/// trailing garbage.
pub fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = string2ll(s) {
        return u64::try_from(v).ok();
    }
    let (v, used) = strtoull_prefix(s, 10)?;
    if s.is_empty() || used != s.len() {
        return None;
    }
    Some(v)
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// C `strtoull` on a prefix: returns the value and the number of bytes
/// consumed (0 when no conversion happened), or `None` on overflow (ERANGE).
fn strtoull_prefix(s: &[u8], radix: u32) -> Option<(u64, usize)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(radix) else {
            break;
        };
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return Some((0, 0));
    }
    if overflow {
        return None;
    }
    Some((if neg { v.wrapping_neg() } else { v }, i))
}

/// C `strtoll` on a prefix: value and bytes consumed (0 if nothing was
/// converted); saturates on overflow and reports it with `overflow = true`.
fn strtoll_prefix(s: &[u8], radix: u32) -> (i64, usize, bool) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i128 = 0;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(radix) else {
            break;
        };
        v = (v * i128::from(radix) + i128::from(d)).min(i128::from(u64::MAX) + 1);
        i += 1;
    }
    if i == start {
        return (0, 0, false);
    }
    let v = if neg { -v } else { v };
    match i64::try_from(v) {
        Ok(x) => (x, i, false),
        Err(_) if neg => (i64::MIN, i, true),
        Err(_) => (i64::MAX, i, true),
    }
}

/// The common Redis idiom `v = strtoll(s, &end, base); if (*end != '\0')
/// error;` without an errno check: leading whitespace and a sign are
/// accepted, an empty string yields 0, overflow saturates.
pub fn strtoll_full(s: &[u8], radix: u32) -> Option<i64> {
    let (v, used, _) = strtoll_prefix(s, radix);
    // With no conversion C leaves end == s, so only "" passes.
    if used == s.len() {
        Some(v)
    } else {
        None
    }
}

/// Like [`strtoll_full`] but also failing on overflow (the `errno == 0 &&
/// *end == '\0'` idiom, e.g. octal configs).
pub fn strtoll_full_checked(s: &[u8], radix: u32) -> Option<i64> {
    let (v, used, overflow) = strtoll_prefix(s, radix);
    if used == s.len() && !overflow {
        Some(v)
    } else {
        None
    }
}

/// Parse a double like Redis `string2d`: rejects the empty string, leading
/// whitespace, trailing bytes, NaN and out-of-range values (overflow to
/// infinity, underflow to zero). Accepts what C `strtod` accepts otherwise:
/// an optional sign, decimal or hex (`0x1p3`) notation, and the literals
/// `inf`/`infinity` in any case (so `"inf"`, `"-inf"`, `"+inf"` parse).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let (neg, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let v = if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        // Only plain decimal syntax from here on.
        if !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        let v: f64 = body.parse().ok()?;
        if v == 0.0
            && body
                .bytes()
                .take_while(|&b| b != b'e' && b != b'E')
                .any(|b| (b'1'..=b'9').contains(&b))
        {
            return None; // underflow (ERANGE with a zero result)
        }
        v
    };
    if v.is_nan() || v.is_infinite() {
        return None; // overflow (ERANGE with HUGE_VAL)
    }
    Some(if neg { -v } else { v })
}

/// Parse like Redis `string2ld` (`long double` parsing): the rules of
/// [`parse_f64`] plus Redis's 5k maximum input length. The value is returned
/// as `f64`.
pub fn parse_long_double(s: &[u8]) -> Option<f64> {
    if s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    parse_f64(s)
}

/// `strtod` hex-float body (after `0x`, lowercased): `h*[.h*][p[+-]d+]`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find('p') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    if let Some(e) = exp {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let e: i32 = e.parse().unwrap_or(if e.starts_with('-') {
            -100_000
        } else {
            100_000
        });
        v *= 2f64.powi(e);
        if v == 0.0 && (int_part.chars().chain(frac_part.chars()).any(|c| c != '0')) {
            return None;
        }
    }
    Some(v)
}

/// Parse a memory amount like Redis `memtoull`: a run of digits followed by
/// an optional case-insensitive unit — none or `b` (bytes), `k` (1000),
/// `kb` (1024), `m` (10^6), `mb` (2^20), `g` (10^9), `gb` (2^30).
///
/// Redis quirks kept: a leading `-` is an error, an empty number counts as 0
/// (so `""` and `"kb"` give 0), digit overflow saturates and the unit
/// multiplication wraps modulo 2^64.
pub fn memtoull(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = s[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in &s[..digits] {
        v = v.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Some(v.wrapping_mul(mul))
}

/// Format a byte count the way `CONFIG REWRITE` does
/// (`rewriteConfigFormatMemory`): `gb`, `mb` or `kb` when it divides evenly,
/// plain bytes otherwise (and for 0).
pub fn format_memory(bytes: i128) -> String {
    const KB: i128 = 1024;
    const MB: i128 = 1024 * 1024;
    const GB: i128 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_cases() {
        assert_eq!(string2ll(b"+1"), None);
        assert_eq!(string2ll(b" 1"), None);
        assert_eq!(string2ll(b"1 "), None);
        assert_eq!(string2ll(b"01"), None);
        assert_eq!(string2ll(b"-0"), None);
        assert_eq!(string2ll(b"-"), None);
        assert_eq!(string2ll(b""), None);
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"1"), Some(1));
        assert_eq!(string2ll(b"99"), Some(99));
        assert_eq!(string2ll(b"-99"), Some(-99));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(string2ll(b"-9223372036854775809"), None);
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"9223372036854775808"), None);
        assert_eq!(string2ll(b"18446744073709551616"), None);
        assert_eq!(string2ll(b"100000000000000000000"), None); // 21 chars
        assert_eq!(string2ll(b"1a"), None);
        assert_eq!(string2l(b"-2147483649"), Some(-2147483649));
    }

    #[test]
    fn string2ull_cases() {
        assert_eq!(string2ull(b"0"), Some(0));
        assert_eq!(string2ull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(string2ull(b"18446744073709551616"), None);
        assert_eq!(string2ull(b"-1"), None);
        assert_eq!(string2ull(b"007"), Some(7));
        assert_eq!(string2ull(b"+7"), Some(7));
        assert_eq!(string2ull(b" 7"), Some(7));
        assert_eq!(string2ull(b"7 "), None);
        assert_eq!(string2ull(b""), None);
        assert_eq!(string2ull(b"abc"), None);
    }

    #[test]
    fn strtoll_helpers() {
        assert_eq!(strtoll_full(b"", 10), Some(0));
        assert_eq!(strtoll_full(b" 12", 10), Some(12));
        assert_eq!(strtoll_full(b"-12", 10), Some(-12));
        assert_eq!(strtoll_full(b"12x", 10), None);
        assert_eq!(strtoll_full(b" ", 10), None);
        assert_eq!(strtoll_full(b"99999999999999999999", 10), Some(i64::MAX));
        assert_eq!(strtoll_full_checked(b"99999999999999999999", 10), None);
        assert_eq!(strtoll_full_checked(b"0777", 8), Some(0o777));
        assert_eq!(strtoll_full_checked(b"8", 8), None);
    }

    #[test]
    fn doubles() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-1.5e3"), Some(-1500.0));
        assert_eq!(parse_f64(b"+2"), Some(2.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_f64(b"0"), Some(0.0));
        assert_eq!(parse_f64(b"0.000"), Some(0.0));
        assert_eq!(parse_f64(b""), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1 "), None);
        assert_eq!(parse_f64(b"1x"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"NaN"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"e5"), None);
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_long_double(&vec![b'1'; 6000]), None);
        assert_eq!(parse_long_double(b"3.25"), Some(3.25));
    }

    #[test]
    fn memory() {
        assert_eq!(memtoull(b"1gb"), Some(1 << 30));
        assert_eq!(memtoull(b"1GB"), Some(1 << 30));
        assert_eq!(memtoull(b"100mb"), Some(100 << 20));
        assert_eq!(memtoull(b"64k"), Some(64_000));
        assert_eq!(memtoull(b"1kb"), Some(1024));
        assert_eq!(memtoull(b"1Kb"), Some(1024));
        assert_eq!(memtoull(b"2m"), Some(2_000_000));
        assert_eq!(memtoull(b"3g"), Some(3_000_000_000));
        assert_eq!(memtoull(b"123"), Some(123));
        assert_eq!(memtoull(b"123b"), Some(123));
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"kb"), Some(0));
        assert_eq!(memtoull(b"-1"), None);
        assert_eq!(memtoull(b"1tb"), None);
        assert_eq!(memtoull(b"1 gb"), None);
        assert_eq!(memtoull(b"1.5gb"), None);
        assert_eq!(memtoull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3 << 20), "3mb");
        assert_eq!(format_memory(2048), "2kb");
        assert_eq!(format_memory(1000), "1000");
    }
}
