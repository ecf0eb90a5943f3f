//! Reply writing: RESP2 / RESP3 encodings appended to an output buffer.
//!
//! Every reply kind has one method on [`Out`] that picks the encoding for the
//! connection's protocol version the way Redis 7.0's `addReply*` functions
//! do, so command code never branches on the protocol itself.

use std::fmt::Write as _;

/// Protocol version negotiated with `HELLO`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Proto {
    /// RESP2, the default for new connections.
    #[default]
    Resp2,
    /// RESP3 (`HELLO 3`), with typed maps, sets, doubles, nulls, ...
    Resp3,
}

const CRLF: &[u8] = b"\r\n";

/// Largest length with a precomputed header.
const HDR_TABLE_MAX: usize = 32;

/// A `<prefix><n>\r\n` header for small `n`, stored with its length.
#[derive(Clone, Copy)]
struct Hdr {
    bytes: [u8; 5],
    len: u8,
}

const fn make_hdr_table(prefix: u8) -> [Hdr; HDR_TABLE_MAX + 1] {
    let mut table = [Hdr {
        bytes: [0; 5],
        len: 0,
    }; HDR_TABLE_MAX + 1];
    let mut n = 0;
    while n <= HDR_TABLE_MAX {
        let mut bytes = [prefix, 0, 0, 0, 0];
        let len = if n < 10 {
            bytes[1] = b'0' + n as u8;
            bytes[2] = b'\r';
            bytes[3] = b'\n';
            4
        } else {
            bytes[1] = b'0' + (n / 10) as u8;
            bytes[2] = b'0' + (n % 10) as u8;
            bytes[3] = b'\r';
            bytes[4] = b'\n';
            5
        };
        table[n] = Hdr { bytes, len };
        n += 1;
    }
    table
}

// The headers written most often (GET/SET/MGET and friends), so they are
// copied from a table instead of being formatted each time.
static BULK_HDRS: [Hdr; HDR_TABLE_MAX + 1] = make_hdr_table(b'$');
static ARRAY_HDRS: [Hdr; HDR_TABLE_MAX + 1] = make_hdr_table(b'*');
static MAP_HDRS: [Hdr; HDR_TABLE_MAX + 1] = make_hdr_table(b'%');
static SET_HDRS: [Hdr; HDR_TABLE_MAX + 1] = make_hdr_table(b'~');

/// Appends `<prefix><n>\r\n` to `buf`.
fn put_header(buf: &mut Vec<u8>, prefix: u8, n: usize) {
    if n <= HDR_TABLE_MAX {
        let table = match prefix {
            b'$' => Some(&BULK_HDRS),
            b'*' => Some(&ARRAY_HDRS),
            b'%' => Some(&MAP_HDRS),
            b'~' => Some(&SET_HDRS),
            _ => None,
        };
        if let Some(table) = table {
            let hdr = &table[n];
            buf.extend_from_slice(&hdr.bytes[..usize::from(hdr.len)]);
            return;
        }
    }
    let mut num = itoa::Buffer::new();
    buf.push(prefix);
    buf.extend_from_slice(num.format(n).as_bytes());
    buf.extend_from_slice(CRLF);
}

/// Appends `text` with CR and LF replaced by spaces: a simple string or error
/// is a single protocol line, so a stray newline would corrupt the stream
/// (Redis does the same in `addReplyErrorFormat`).
fn put_line_text(buf: &mut Vec<u8>, text: &[u8]) {
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        buf.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        buf.extend_from_slice(text);
    }
}

/// Position in the output buffer where an aggregate header will be inserted
/// once its length is known (Redis's `addReplyDeferredLen`).
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a deferred reply must be finished with finish_array/finish_map/finish_set/finish_push"]
pub struct Deferred {
    pos: usize,
}

/// A reply writer: an output buffer plus the connection's protocol version.
#[derive(Debug)]
pub struct Out<'a> {
    /// The connection's output buffer; replies are appended to it.
    pub buf: &'a mut Vec<u8>,
    /// Encoding to use.
    pub proto: Proto,
}

impl<'a> Out<'a> {
    /// Wraps `buf` for writing replies in `proto`.
    pub fn new(buf: &'a mut Vec<u8>, proto: Proto) -> Self {
        Out { buf, proto }
    }

    /// Whether the connection speaks RESP3.
    #[inline]
    pub fn is_resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    /// Appends already-encoded protocol bytes verbatim.
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// `+OK`.
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple (status) string: `+<text>`. CR/LF in `text` become spaces.
    pub fn simple(&mut self, text: &str) {
        self.buf.push(b'+');
        put_line_text(self.buf, text.as_bytes());
        self.buf.extend_from_slice(CRLF);
    }

    /// An error: `-<text>`. The caller passes the full text including the
    /// code (`"ERR syntax error"`, `"WRONGTYPE ..."`); a leading `-` is
    /// accepted and not doubled. CR/LF in `text` become spaces.
    pub fn error(&mut self, text: &str) {
        let text = text.as_bytes();
        let text = match text.split_first() {
            Some((b'-', rest)) => rest,
            _ => text,
        };
        self.buf.push(b'-');
        put_line_text(self.buf, text);
        self.buf.extend_from_slice(CRLF);
    }

    /// An integer: `:<n>`.
    #[inline]
    pub fn int(&mut self, n: i64) {
        let mut num = itoa::Buffer::new();
        self.buf.push(b':');
        self.buf.extend_from_slice(num.format(n).as_bytes());
        self.buf.extend_from_slice(CRLF);
    }

    /// A bulk string: `$<len>\r\n<bytes>`.
    #[inline]
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.buf.reserve(bytes.len() + 16);
        put_header(self.buf, b'$', bytes.len());
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(CRLF);
    }

    /// A bulk string from text.
    #[inline]
    pub fn bulk_str(&mut self, text: &str) {
        self.bulk(text.as_bytes());
    }

    /// A bulk string holding the decimal form of `n` (e.g. `INCRBYFLOAT`-like
    /// replies or `CONFIG GET` values).
    pub fn bulk_int(&mut self, n: i64) {
        let mut num = itoa::Buffer::new();
        self.bulk(num.format(n).as_bytes());
    }

    /// A bulk string, or a null when `None`.
    pub fn bulk_opt(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(bytes) => self.bulk(bytes),
            None => self.null(),
        }
    }

    /// The null reply: RESP2 null bulk `$-1`, RESP3 `_`.
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(match self.proto {
            Proto::Resp2 => b"$-1\r\n",
            Proto::Resp3 => b"_\r\n",
        });
    }

    /// The null array: RESP2 `*-1`, RESP3 `_`.
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(match self.proto {
            Proto::Resp2 => b"*-1\r\n",
            Proto::Resp3 => b"_\r\n",
        });
    }

    /// An array header for `n` elements: `*<n>`.
    #[inline]
    pub fn array(&mut self, n: usize) {
        put_header(self.buf, b'*', n);
    }

    /// A map header for `n` key/value pairs: RESP3 `%<n>`, RESP2 a flat
    /// array `*<2n>`.
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => put_header(self.buf, b'*', n.saturating_mul(2)),
            Proto::Resp3 => put_header(self.buf, b'%', n),
        }
    }

    /// A set header for `n` members: RESP3 `~<n>`, RESP2 `*<n>`.
    pub fn set(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => put_header(self.buf, b'*', n),
            Proto::Resp3 => put_header(self.buf, b'~', n),
        }
    }

    /// A push header for `n` elements (pub/sub messages, invalidations):
    /// RESP3 `><n>`, RESP2 `*<n>`.
    pub fn push(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => put_header(self.buf, b'*', n),
            Proto::Resp3 => put_header(self.buf, b'>', n),
        }
    }

    /// A double, as Redis 7.0's `addReplyDouble`: `%.17g` text
    /// ([`format_double`]), as a bulk string in RESP2 and `,<text>` in RESP3.
    pub fn double(&mut self, f: f64) {
        let text = format_double(f);
        match self.proto {
            Proto::Resp2 => self.bulk(text.as_bytes()),
            Proto::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(text.as_bytes());
                self.buf.extend_from_slice(CRLF);
            }
        }
    }

    /// A double in human form ([`format_double_human`]), as Redis's
    /// `addReplyHumanLongDouble` (`INCRBYFLOAT`, `HINCRBYFLOAT`): a bulk
    /// string in RESP2, `,<text>` in RESP3.
    pub fn double_human(&mut self, f: f64) {
        let text = format_double_human(f);
        match self.proto {
            Proto::Resp2 => self.bulk(text.as_bytes()),
            Proto::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(text.as_bytes());
                self.buf.extend_from_slice(CRLF);
            }
        }
    }

    /// A boolean: RESP3 `#t` / `#f`, RESP2 `:1` / `:0`.
    pub fn boolean(&mut self, b: bool) {
        self.buf.extend_from_slice(match (self.proto, b) {
            (Proto::Resp2, true) => b":1\r\n",
            (Proto::Resp2, false) => b":0\r\n",
            (Proto::Resp3, true) => b"#t\r\n",
            (Proto::Resp3, false) => b"#f\r\n",
        });
    }

    /// A verbatim string (`INFO`, `CLIENT LIST`, `LATENCY DOCTOR`): RESP3
    /// `=<len>\r\n<fmt>:<text>` where `fmt` is a three-character format such
    /// as `txt` (padded with spaces / truncated to three, like Redis), RESP2
    /// a plain bulk string of `text`.
    pub fn verbatim(&mut self, fmt3: &str, text: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(text),
            Proto::Resp3 => {
                let mut fmt = [b' '; 3];
                for (dst, src) in fmt.iter_mut().zip(fmt3.bytes()) {
                    *dst = src;
                }
                self.buf.reserve(text.len() + 20);
                put_header(self.buf, b'=', text.len() + 4);
                self.buf.extend_from_slice(&fmt);
                self.buf.push(b':');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(CRLF);
            }
        }
    }

    /// A big number given as its decimal text: RESP3 `(<digits>`, RESP2 a
    /// bulk string.
    pub fn big_number(&mut self, digits: &str) {
        match self.proto {
            Proto::Resp2 => self.bulk(digits.as_bytes()),
            Proto::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits.as_bytes());
                self.buf.extend_from_slice(CRLF);
            }
        }
    }

    /// Reserves the place of an aggregate header whose length is only known
    /// after its elements are written; finish it with one of the `finish_*`
    /// methods.
    pub fn deferred(&mut self) -> Deferred {
        Deferred {
            pos: self.buf.len(),
        }
    }

    /// Completes `d` as an array of `n` elements.
    pub fn finish_array(&mut self, d: Deferred, n: usize) {
        self.insert_header(d, b'*', n);
    }

    /// Completes `d` as a map of `n` pairs (RESP2: array of `2n`).
    pub fn finish_map(&mut self, d: Deferred, n: usize) {
        match self.proto {
            Proto::Resp2 => self.insert_header(d, b'*', n.saturating_mul(2)),
            Proto::Resp3 => self.insert_header(d, b'%', n),
        }
    }

    /// Completes `d` as a set of `n` members (RESP2: array).
    pub fn finish_set(&mut self, d: Deferred, n: usize) {
        match self.proto {
            Proto::Resp2 => self.insert_header(d, b'*', n),
            Proto::Resp3 => self.insert_header(d, b'~', n),
        }
    }

    /// Completes `d` as a push of `n` elements (RESP2: array).
    pub fn finish_push(&mut self, d: Deferred, n: usize) {
        match self.proto {
            Proto::Resp2 => self.insert_header(d, b'*', n),
            Proto::Resp3 => self.insert_header(d, b'>', n),
        }
    }

    fn insert_header(&mut self, d: Deferred, prefix: u8, n: usize) {
        // Written to a side buffer then inserted: one memmove of the
        // elements written since the marker.
        let mut hdr = Vec::with_capacity(24);
        put_header(&mut hdr, prefix, n);
        let pos = d.pos.min(self.buf.len());
        self.buf.splice(pos..pos, hdr);
    }
}

/// Formats `f` exactly like C's `printf("%.17g", f)` with glibc, as Redis 7.0
/// does for double replies and `d2string` fallbacks: 17 significant digits,
/// trailing zeros removed, exponent form (`1.0000000000000001e+20`) when the
/// decimal exponent is below -4 or at least 17; `inf`, `-inf`, `nan`
/// (`-nan` when the sign bit is set, as glibc prints it).
pub fn format_double(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    const PRECISION: i32 = 17;
    // Rust's `{:.16e}` rounds the exact binary value to 17 significant
    // digits (ties to even), the same digits glibc produces for %.17g.
    let sci = format!("{:.16e}", f);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut out = String::with_capacity(32);
    if negative {
        out.push('-');
    }
    if !(-4..PRECISION).contains(&exp) {
        // d.dddde±XX with trailing zeros of the fraction removed.
        let frac = trim_zeros(&digits[1..]);
        out.push(char::from(digits[0]));
        if !frac.is_empty() {
            out.push('.');
            out.extend(frac.iter().map(|&b| char::from(b)));
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        // 0.000ddd: the point, then -exp-1 zeros, then the digits.
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.extend(trim_zeros(&digits).iter().map(|&b| char::from(b)));
    } else {
        let int_len = exp as usize + 1;
        out.extend(digits[..int_len].iter().map(|&b| char::from(b)));
        let frac = trim_zeros(&digits[int_len..]);
        if !frac.is_empty() {
            out.push('.');
            out.extend(frac.iter().map(|&b| char::from(b)));
        }
    }
    out
}

/// Alias of [`format_double`], named after the printf format it mimics.
pub fn format_double_g17(f: f64) -> String {
    format_double(f)
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let end = digits.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
    &digits[..end]
}

/// Formats `f` for humans the way Redis's `ld2string(LD_STR_HUMAN)` does
/// (`INCRBYFLOAT`, `HINCRBYFLOAT` results): plain decimal notation, never an
/// exponent, no trailing zeros or point, `-0` printed as `0`, `inf` / `-inf`.
///
/// Redis prints a long double with `%.17Lf`; we hold an `f64`, whose
/// `%.17f` expansion would show binary noise (`0.10000000000000001`), so we
/// print the shortest decimal that reads back as the same `f64` instead,
/// still cut to at most 17 fractional digits like Redis (so values below
/// 5e-18 in magnitude print as `0`).
pub fn format_double_human(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    // Rust's Display for f64 is the shortest round-trip form, never with an
    // exponent.
    let mut s = f.to_string();
    let frac_len = s.find('.').map_or(0, |dot| s.len() - dot - 1);
    if frac_len > 17 {
        s = format!("{:.17}", f);
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(proto: Proto, f: impl FnOnce(&mut Out)) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, proto);
        f(&mut out);
        buf
    }

    /// Asserts the RESP2 and RESP3 encodings of one reply.
    fn both(f: impl Fn(&mut Out), resp2: &[u8], resp3: &[u8]) {
        assert_eq!(
            enc(Proto::Resp2, &f),
            resp2,
            "RESP2: {:?}",
            String::from_utf8_lossy(resp2)
        );
        assert_eq!(
            enc(Proto::Resp3, &f),
            resp3,
            "RESP3: {:?}",
            String::from_utf8_lossy(resp3)
        );
    }

    #[test]
    fn header_tables() {
        for n in 0..=40usize {
            let expected = format!("${n}\r\n");
            assert_eq!(
                enc(Proto::Resp2, |o| { put_header(o.buf, b'$', n) }),
                expected.as_bytes()
            );
            for prefix in [b'*', b'%', b'~', b'>', b'='] {
                let expected = format!("{}{n}\r\n", char::from(prefix));
                let mut buf = Vec::new();
                put_header(&mut buf, prefix, n);
                assert_eq!(buf, expected.as_bytes());
            }
        }
    }

    #[test]
    fn simple_kinds() {
        both(|o| o.ok(), b"+OK\r\n", b"+OK\r\n");
        both(|o| o.simple("QUEUED"), b"+QUEUED\r\n", b"+QUEUED\r\n");
        both(
            |o| o.error("ERR syntax error"),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
        );
        both(
            |o| o.error("-WRONGTYPE x"),
            b"-WRONGTYPE x\r\n",
            b"-WRONGTYPE x\r\n",
        );
        both(
            |o| o.error("ERR a\r\nb"),
            b"-ERR a  b\r\n",
            b"-ERR a  b\r\n",
        );
        both(|o| o.simple("a\nb"), b"+a b\r\n", b"+a b\r\n");
        both(|o| o.int(0), b":0\r\n", b":0\r\n");
        both(|o| o.int(-42), b":-42\r\n", b":-42\r\n");
        both(
            |o| o.int(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
        both(|o| o.raw(b"+X\r\n"), b"+X\r\n", b"+X\r\n");
    }

    #[test]
    fn bulks() {
        both(|o| o.bulk(b"bar"), b"$3\r\nbar\r\n", b"$3\r\nbar\r\n");
        both(|o| o.bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        both(
            |o| o.bulk(b"a\r\nb"),
            b"$4\r\na\r\nb\r\n",
            b"$4\r\na\r\nb\r\n",
        );
        both(
            |o| o.bulk_str("hello"),
            b"$5\r\nhello\r\n",
            b"$5\r\nhello\r\n",
        );
        both(|o| o.bulk_int(-123), b"$4\r\n-123\r\n", b"$4\r\n-123\r\n");
        both(|o| o.bulk_opt(Some(b"x")), b"$1\r\nx\r\n", b"$1\r\nx\r\n");
        both(|o| o.bulk_opt(None), b"$-1\r\n", b"_\r\n");
        let long = vec![b'z'; 1000];
        let mut expected = b"$1000\r\n".to_vec();
        expected.extend_from_slice(&long);
        expected.extend_from_slice(b"\r\n");
        both(|o| o.bulk(&long), &expected, &expected);
    }

    #[test]
    fn nulls() {
        both(|o| o.null(), b"$-1\r\n", b"_\r\n");
        both(|o| o.null_array(), b"*-1\r\n", b"_\r\n");
    }

    #[test]
    fn aggregates() {
        both(|o| o.array(2), b"*2\r\n", b"*2\r\n");
        both(|o| o.array(100), b"*100\r\n", b"*100\r\n");
        both(|o| o.map(3), b"*6\r\n", b"%3\r\n");
        both(|o| o.map(20), b"*40\r\n", b"%20\r\n");
        both(|o| o.set(2), b"*2\r\n", b"~2\r\n");
        both(|o| o.push(3), b"*3\r\n", b">3\r\n");
    }

    #[test]
    fn doubles() {
        both(|o| o.double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n");
        both(
            |o| o.double(0.1),
            b"$19\r\n0.10000000000000001\r\n",
            b",0.10000000000000001\r\n",
        );
        both(|o| o.double(3.0), b"$1\r\n3\r\n", b",3\r\n");
        both(|o| o.double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        both(
            |o| o.double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        );
        both(|o| o.double(f64::NAN), b"$3\r\nnan\r\n", b",nan\r\n");
        both(|o| o.double_human(10.5), b"$4\r\n10.5\r\n", b",10.5\r\n");
        both(|o| o.double_human(3.0), b"$1\r\n3\r\n", b",3\r\n");
    }

    #[test]
    fn booleans() {
        both(|o| o.boolean(true), b":1\r\n", b"#t\r\n");
        both(|o| o.boolean(false), b":0\r\n", b"#f\r\n");
    }

    #[test]
    fn verbatim_and_big_number() {
        both(
            |o| o.verbatim("txt", b"hello"),
            b"$5\r\nhello\r\n",
            b"=9\r\ntxt:hello\r\n",
        );
        both(|o| o.verbatim("md", b""), b"$0\r\n\r\n", b"=4\r\nmd :\r\n");
        both(
            |o| o.verbatim("mkdown", b"x"),
            b"$1\r\nx\r\n",
            b"=5\r\nmkd:x\r\n",
        );
        both(
            |o| o.big_number("1234567999999999999999999999"),
            b"$28\r\n1234567999999999999999999999\r\n",
            b"(1234567999999999999999999999\r\n",
        );
    }

    #[test]
    fn deferred_headers() {
        both(
            |o| {
                o.ok();
                let d = o.deferred();
                o.bulk(b"a");
                o.bulk(b"b");
                o.finish_array(d, 2);
            },
            b"+OK\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"+OK\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        );
        both(
            |o| {
                let d = o.deferred();
                o.bulk(b"k");
                o.int(1);
                o.finish_map(d, 1);
            },
            b"*2\r\n$1\r\nk\r\n:1\r\n",
            b"%1\r\n$1\r\nk\r\n:1\r\n",
        );
        both(
            |o| {
                let d = o.deferred();
                o.finish_set(d, 0);
            },
            b"*0\r\n",
            b"~0\r\n",
        );
        both(
            |o| {
                let d = o.deferred();
                o.bulk(b"m");
                o.finish_push(d, 1);
            },
            b"*1\r\n$1\r\nm\r\n",
            b">1\r\n$1\r\nm\r\n",
        );
        // Nested: the outer marker stays valid because the inner header is
        // inserted after it.
        both(
            |o| {
                let outer = o.deferred();
                let inner = o.deferred();
                for _ in 0..40 {
                    o.int(7);
                }
                o.finish_array(inner, 40);
                o.finish_array(outer, 1);
            },
            &[&b"*1\r\n*40\r\n"[..], &b":7\r\n".repeat(40)].concat(),
            &[&b"*1\r\n*40\r\n"[..], &b":7\r\n".repeat(40)].concat(),
        );
    }

    #[test]
    // The literals are exact on purpose: printf must be matched bit for bit,
    // including ties at the 17th digit.
    #[allow(clippy::excessive_precision, clippy::approx_constant)]
    fn format_double_matches_printf_g17() {
        // Expected values are from C / Python `'%.17g' % x`.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e-5, "1.0000000000000001e-05"),
            (3.14159265358979, "3.14159265358979"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "4.9406564584124654e-324"),
            (100000000000000000000.0, "1e+20"),
            (1.0000000000000002e20, "1.0000000000000002e+20"),
            (12345678901234567.0, "12345678901234568"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012344999999999999"),
            (123.456, "123.456"),
            (-2.5, "-2.5"),
            (3.0, "3"),
            (1.0 / 3.0, "0.33333333333333331"),
            (2.0 / 3.0, "0.66666666666666663"),
            (9.999999999999999e22, "9.9999999999999992e+22"),
            (0.30000000000000004, "0.30000000000000004"),
            (100000000000000.125, "100000000000000.12"),
            (100000000000000.375, "100000000000000.38"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
        ];
        for &(f, expected) in cases {
            assert_eq!(format_double(f), expected, "{f:e}");
            assert_eq!(format_double_g17(f), expected, "{f:e}");
        }
    }

    #[test]
    fn format_double_human_cases() {
        let cases: &[(f64, &str)] = &[
            (10.5, "10.5"),
            (1e20, "100000000000000000000"),
            (3.0, "3"),
            (-0.0, "0"),
            (0.0, "0"),
            (0.1, "0.1"),
            (10.5 + 0.1, "10.6"),
            (-1.25, "-1.25"),
            (5.0e3, "5000"),
            (1e-5, "0.00001"),
            (1.5e-17, "0.00000000000000002"),
            (1e-20, "0"),
            (-1e-20, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for &(f, expected) in cases {
            assert_eq!(format_double_human(f), expected, "{f:e}");
        }
    }
}
