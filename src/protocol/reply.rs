//! Reply parsing: RESP2/RESP3 bytes from a server back into a [`Frame`] tree.
//!
//! The server itself never needs this; it serves the in-process API, the
//! command-line client and tests, which read what [`super::encode::Out`]
//! wrote.

use std::fmt;

use bytes::Bytes;

use super::decode::{parse_i64, ProtocolError};
use super::encode::{format_double, Out, Proto};

/// Deepest nesting of aggregates accepted, so hostile input cannot overflow
/// the stack through recursion.
pub const MAX_NESTING: usize = 128;

/// Upper bound on elements pre-allocated from an untrusted aggregate length.
const MAX_PREALLOC: usize = 1024;

/// A parsed value and the position after it; `None` when incomplete.
type Parsed<T> = Result<Option<(T, usize)>, ProtocolError>;

/// One reply, RESP2 or RESP3.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(String),
    /// `-text` (or RESP3 blob error `!len`), without the leading `-`.
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$len` bulk string.
    Bulk(Bytes),
    /// RESP2 null bulk `$-1` or RESP3 `_`.
    Null,
    /// RESP2 null array `*-1`.
    NullArray,
    /// `*n`
    Array(Vec<Frame>),
    /// RESP3 `%n`
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~n`
    Set(Vec<Frame>),
    /// RESP3 `,double`
    Double(f64),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `=len` verbatim string: format (e.g. `txt`) and text.
    Verbatim(String, Bytes),
    /// RESP3 `(digits`
    BigNumber(String),
    /// RESP3 `>n` out-of-band push.
    Push(Vec<Frame>),
}

/// Parses one reply from the front of `buf`.
///
/// Returns `Ok(None)` if `buf` holds only part of a reply, otherwise the
/// reply and how many bytes it used. RESP3 attributes (`|n`) are parsed and
/// dropped, their bytes counted in the consumed length.
pub fn parse_frame(buf: &[u8]) -> Parsed<Frame> {
    parse_at(buf, 0, 0)
}

fn bad(what: &'static str) -> ProtocolError {
    ProtocolError::InvalidReply(what)
}

/// Returns the line starting at `pos` (without CRLF) and the position after
/// its CRLF, or `None` when the CRLF has not arrived yet.
fn line_at(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], pos + end + 2))
}

/// Parses a length line: `-1` gives `None`, other negatives are errors.
fn parse_len(line: &[u8]) -> Result<Option<usize>, ProtocolError> {
    match parse_i64(line) {
        Some(-1) => Ok(None),
        Some(n) if n >= 0 => usize::try_from(n)
            .map(Some)
            .map_err(|_| bad("invalid length")),
        _ => Err(bad("invalid length")),
    }
}

/// Reads a `len` bytes payload plus CRLF at `pos`.
fn payload_at(buf: &[u8], pos: usize, len: usize) -> Parsed<&[u8]> {
    let end = pos.checked_add(len).ok_or(bad("invalid length"))?;
    if buf.len() < end.saturating_add(2) {
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(bad("missing CRLF after bulk payload"));
    }
    Ok(Some((&buf[pos..end], end + 2)))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses `n` frames starting at `pos`.
fn parse_many(buf: &[u8], mut pos: usize, n: usize, depth: usize) -> Parsed<Vec<Frame>> {
    let mut items = Vec::with_capacity(n.min(MAX_PREALLOC));
    for _ in 0..n {
        match parse_at(buf, pos, depth)? {
            Some((frame, next)) => {
                items.push(frame);
                pos = next;
            }
            None => return Ok(None),
        }
    }
    Ok(Some((items, pos)))
}

/// Parses `n` key/value pairs starting at `pos`.
fn parse_pairs(buf: &[u8], pos: usize, n: usize, depth: usize) -> Parsed<Vec<(Frame, Frame)>> {
    let count = n.checked_mul(2).ok_or(bad("invalid length"))?;
    let Some((flat, next)) = parse_many(buf, pos, count, depth)? else {
        return Ok(None);
    };
    let mut pairs = Vec::with_capacity(n.min(MAX_PREALLOC));
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        pairs.push((k, v));
    }
    Ok(Some((pairs, next)))
}

fn parse_at(buf: &[u8], pos: usize, depth: usize) -> Parsed<Frame> {
    if depth > MAX_NESTING {
        return Err(bad("reply nested too deeply"));
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((line, next)) = line_at(buf, pos + 1) else {
        return Ok(None);
    };
    let frame = match kind {
        b'+' => Frame::Simple(text(line)),
        b'-' => Frame::Error(text(line)),
        b':' => Frame::Integer(parse_i64(line).ok_or(bad("invalid integer"))?),
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad("invalid big number"));
            }
            Frame::BigNumber(text(line))
        }
        b'_' => {
            if !line.is_empty() {
                return Err(bad("invalid null"));
            }
            Frame::Null
        }
        b',' => Frame::Double(parse_double(line).ok_or(bad("invalid double"))?),
        b'#' => match line {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(bad("invalid boolean")),
        },
        b'$' | b'!' | b'=' => {
            let Some(len) = parse_len(line)? else {
                return match kind {
                    b'$' => Ok(Some((Frame::Null, next))),
                    _ => Err(bad("invalid length")),
                };
            };
            let Some((data, after)) = payload_at(buf, next, len)? else {
                return Ok(None);
            };
            let frame = match kind {
                b'$' => Frame::Bulk(Bytes::copy_from_slice(data)),
                b'!' => Frame::Error(text(data)),
                _ => {
                    if data.len() < 4 || data[3] != b':' {
                        return Err(bad("invalid verbatim string"));
                    }
                    Frame::Verbatim(text(&data[..3]), Bytes::copy_from_slice(&data[4..]))
                }
            };
            return Ok(Some((frame, after)));
        }
        b'*' | b'~' | b'>' => {
            let Some(n) = parse_len(line)? else {
                return match kind {
                    b'*' => Ok(Some((Frame::NullArray, next))),
                    _ => Err(bad("invalid length")),
                };
            };
            let Some((items, after)) = parse_many(buf, next, n, depth + 1)? else {
                return Ok(None);
            };
            let frame = match kind {
                b'*' => Frame::Array(items),
                b'~' => Frame::Set(items),
                _ => Frame::Push(items),
            };
            return Ok(Some((frame, after)));
        }
        b'%' | b'|' => {
            let n = parse_len(line)?.ok_or(bad("invalid length"))?;
            let Some((pairs, after)) = parse_pairs(buf, next, n, depth + 1)? else {
                return Ok(None);
            };
            if kind == b'|' {
                // Attributes annotate the reply that follows; we drop them.
                return parse_at(buf, after, depth + 1);
            }
            return Ok(Some((Frame::Map(pairs), after)));
        }
        _ => return Err(bad("invalid reply type byte")),
    };
    Ok(Some((frame, next)))
}

fn parse_double(line: &[u8]) -> Option<f64> {
    match line {
        b"inf" | b"+inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Some(f64::NAN),
        _ => {
            // Rust's parser accepts "infinity"/"NaN" spellings we already
            // handled; anything else must look numeric.
            let s = std::str::from_utf8(line).ok()?;
            if s.is_empty()
                || s.bytes()
                    .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
            {
                return None;
            }
            s.parse().ok()
        }
    }
}

impl Frame {
    /// Encodes this frame in `proto`, with the same RESP2 fallbacks the
    /// server uses (maps flattened, doubles as bulk strings, ...).
    pub fn to_resp(&self, proto: Proto) -> Vec<u8> {
        let mut buf = Vec::new();
        self.write_resp(&mut Out::new(&mut buf, proto));
        buf
    }

    /// Appends this frame's encoding to `out`.
    pub fn write_resp(&self, out: &mut Out<'_>) {
        match self {
            Frame::Simple(s) => out.simple(s),
            Frame::Error(s) => out.error(s),
            Frame::Integer(n) => out.int(*n),
            Frame::Bulk(b) => out.bulk(b),
            Frame::Null => out.null(),
            Frame::NullArray => out.null_array(),
            Frame::Array(items) => {
                out.array(items.len());
                items.iter().for_each(|f| f.write_resp(out));
            }
            Frame::Set(items) => {
                out.set(items.len());
                items.iter().for_each(|f| f.write_resp(out));
            }
            Frame::Push(items) => {
                out.push(items.len());
                items.iter().for_each(|f| f.write_resp(out));
            }
            Frame::Map(pairs) => {
                out.map(pairs.len());
                for (k, v) in pairs {
                    k.write_resp(out);
                    v.write_resp(out);
                }
            }
            Frame::Double(f) => out.double(*f),
            Frame::Boolean(b) => out.boolean(*b),
            Frame::Verbatim(fmt, text) => out.verbatim(fmt, text),
            Frame::BigNumber(n) => out.big_number(n),
        }
    }

    /// The bytes of a simple, bulk or verbatim string reply.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(s) => Some(s.as_bytes()),
            Frame::Bulk(b) | Frame::Verbatim(_, b) => Some(b),
            _ => None,
        }
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// Formats like `redis-cli` on a terminal (`cliFormatReplyTTY`); every
    /// line ends with a newline.
    fn format_tty(&self, prefix: &str, out: &mut String) {
        match self {
            Frame::Error(s) => {
                out.push_str("(error) ");
                out.push_str(s);
                out.push('\n');
            }
            Frame::Simple(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Frame::Integer(n) => {
                out.push_str("(integer) ");
                out.push_str(itoa::Buffer::new().format(*n));
                out.push('\n');
            }
            Frame::Double(f) => {
                out.push_str("(double) ");
                out.push_str(&format_double(*f));
                out.push('\n');
            }
            Frame::BigNumber(n) => {
                out.push_str("(big number) ");
                out.push_str(n);
                out.push('\n');
            }
            Frame::Bulk(b) => {
                push_repr(out, b);
                out.push('\n');
            }
            Frame::Verbatim(_, b) => {
                out.push_str(&String::from_utf8_lossy(b));
                out.push('\n');
            }
            Frame::Null | Frame::NullArray => out.push_str("(nil)\n"),
            Frame::Boolean(b) => out.push_str(if *b { "(true)\n" } else { "(false)\n" }),
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                if items.is_empty() {
                    out.push_str(match self {
                        Frame::Array(_) => "(empty array)\n",
                        Frame::Set(_) => "(empty set)\n",
                        _ => "(empty push)\n",
                    });
                    return;
                }
                let sep = if matches!(self, Frame::Set(_)) {
                    '~'
                } else {
                    ')'
                };
                let width = items.len().to_string().len();
                let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
                for (i, item) in items.iter().enumerate() {
                    let p = if i == 0 { "" } else { prefix };
                    out.push_str(&format!("{p}{:>width$}{sep} ", i + 1));
                    item.format_tty(&child_prefix, out);
                }
            }
            Frame::Map(pairs) => {
                if pairs.is_empty() {
                    out.push_str("(empty hash)\n");
                    return;
                }
                let width = pairs.len().to_string().len();
                let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
                for (i, (k, v)) in pairs.iter().enumerate() {
                    let p = if i == 0 { "" } else { prefix };
                    out.push_str(&format!("{p}{:>width$}# ", i + 1));
                    k.format_tty(&child_prefix, out);
                    out.pop();
                    out.push_str(" => ");
                    if v.is_multiline_tty() {
                        out.push('\n');
                        out.push_str(&child_prefix);
                    }
                    v.format_tty(&child_prefix, out);
                }
            }
        }
    }

    fn is_multiline_tty(&self) -> bool {
        match self {
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                match items.as_slice() {
                    [] => false,
                    [only] => only.is_multiline_tty(),
                    _ => true,
                }
            }
            Frame::Map(pairs) => match pairs.as_slice() {
                [] => false,
                [(_, v)] => v.is_multiline_tty(),
                _ => true,
            },
            _ => false,
        }
    }
}

/// Quotes `bytes` like Redis's `sdscatrepr`.
fn push_repr(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

/// `redis-cli`-style rendering, without the final newline.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.format_tty("", &mut s);
        if s.ends_with('\n') {
            s.pop();
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Frame {
        let (frame, used) = parse_frame(input).expect("valid").expect("complete");
        assert_eq!(
            used,
            input.len(),
            "consumed all of {:?}",
            String::from_utf8_lossy(input)
        );
        // Every strict prefix is incomplete, never an error or a frame.
        for cut in 0..input.len() {
            assert_eq!(parse_frame(&input[..cut]), Ok(None), "prefix {cut}");
        }
        frame
    }

    fn bulk(s: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s))
    }

    #[test]
    fn resp2_types() {
        assert_eq!(parse_all(b"+OK\r\n"), Frame::Simple("OK".into()));
        assert_eq!(parse_all(b"-ERR bad\r\n"), Frame::Error("ERR bad".into()));
        assert_eq!(parse_all(b":-12\r\n"), Frame::Integer(-12));
        assert_eq!(parse_all(b"$3\r\nfoo\r\n"), bulk(b"foo"));
        assert_eq!(parse_all(b"$0\r\n\r\n"), bulk(b""));
        assert_eq!(parse_all(b"$4\r\na\r\nb\r\n"), bulk(b"a\r\nb"));
        assert_eq!(parse_all(b"$-1\r\n"), Frame::Null);
        assert_eq!(parse_all(b"*-1\r\n"), Frame::NullArray);
        assert_eq!(parse_all(b"*0\r\n"), Frame::Array(vec![]));
        assert_eq!(
            parse_all(b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n"),
            Frame::Array(vec![
                Frame::Integer(1),
                bulk(b"a"),
                Frame::Array(vec![Frame::Simple("x".into())])
            ])
        );
    }

    #[test]
    fn resp3_types() {
        assert_eq!(parse_all(b"_\r\n"), Frame::Null);
        assert_eq!(parse_all(b",1.5\r\n"), Frame::Double(1.5));
        assert_eq!(parse_all(b",inf\r\n"), Frame::Double(f64::INFINITY));
        assert_eq!(parse_all(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
        assert_eq!(parse_all(b",1e+20\r\n"), Frame::Double(1e20));
        assert!(matches!(parse_all(b",nan\r\n"), Frame::Double(f) if f.is_nan()));
        assert_eq!(parse_all(b"#t\r\n"), Frame::Boolean(true));
        assert_eq!(parse_all(b"#f\r\n"), Frame::Boolean(false));
        assert_eq!(
            parse_all(b"=9\r\ntxt:hello\r\n"),
            Frame::Verbatim("txt".into(), Bytes::from_static(b"hello"))
        );
        assert_eq!(
            parse_all(b"(-123456789012345678901234\r\n"),
            Frame::BigNumber("-123456789012345678901234".into())
        );
        assert_eq!(
            parse_all(b"!7\r\nERR bad\r\n"),
            Frame::Error("ERR bad".into())
        );
        assert_eq!(
            parse_all(b"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"),
            Frame::Map(vec![
                (Frame::Simple("a".into()), Frame::Integer(1)),
                (Frame::Simple("b".into()), Frame::Integer(2)),
            ])
        );
        assert_eq!(
            parse_all(b"~1\r\n+a\r\n"),
            Frame::Set(vec![Frame::Simple("a".into())])
        );
        assert_eq!(
            parse_all(b">2\r\n+message\r\n$2\r\nhi\r\n"),
            Frame::Push(vec![Frame::Simple("message".into()), bulk(b"hi")])
        );
    }

    #[test]
    fn attributes_are_skipped() {
        assert_eq!(
            parse_all(b"|1\r\n+key\r\n:9\r\n:42\r\n"),
            Frame::Integer(42)
        );
        assert_eq!(
            parse_all(b"*1\r\n|1\r\n+k\r\n+v\r\n$1\r\nx\r\n"),
            Frame::Array(vec![bulk(b"x")])
        );
    }

    #[test]
    fn consumed_length_with_trailing_data() {
        let (frame, used) = parse_frame(b"+OK\r\n:1\r\n")
            .expect("valid")
            .expect("complete");
        assert_eq!(frame, Frame::Simple("OK".into()));
        assert_eq!(used, 5);
    }

    #[test]
    fn malformed_replies() {
        for input in [
            &b"?x\r\n"[..],
            b":abc\r\n",
            b"$-2\r\n",
            b"$3\r\nfooXY",
            b"*-2\r\n",
            b"#x\r\n",
            b",abc\r\n",
            b"_x\r\n",
            b"=3\r\ntxt\r\n",
            b"=5\r\ntxt-x\r\n",
            b"(12a\r\n",
            b"~-1\r\n",
            b"%-1\r\n",
        ] {
            assert!(
                matches!(parse_frame(input), Err(ProtocolError::InvalidReply(_))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let input = b"*1\r\n".repeat(MAX_NESTING + 10);
        assert!(matches!(
            parse_frame(&input),
            Err(ProtocolError::InvalidReply(_))
        ));
    }

    #[test]
    fn huge_declared_length_does_not_allocate() {
        assert_eq!(parse_frame(b"*2000000000\r\n:1\r\n"), Ok(None));
        assert_eq!(parse_frame(b"$2000000000\r\nabc"), Ok(None));
    }

    #[test]
    fn to_resp_round_trips() {
        let samples: &[&[u8]] = &[
            b"+OK\r\n",
            b"-ERR x\r\n",
            b":5\r\n",
            b"$3\r\nfoo\r\n",
            b"_\r\n",
            b"*2\r\n$1\r\na\r\n_\r\n",
            b"%1\r\n$1\r\nk\r\n,1.5\r\n",
            b"~2\r\n:1\r\n:2\r\n",
            b">1\r\n$1\r\nm\r\n",
            b"#t\r\n",
            b"=9\r\ntxt:hello\r\n",
            b"(12345678901234567890\r\n",
        ];
        for &sample in samples {
            let frame = parse_all(sample);
            assert_eq!(frame.to_resp(Proto::Resp3), sample, "{frame:?}");
        }
    }

    #[test]
    fn to_resp_resp2_fallbacks() {
        let frame = Frame::Map(vec![(bulk(b"k"), Frame::Double(1.5))]);
        assert_eq!(
            frame.to_resp(Proto::Resp2),
            b"*2\r\n$1\r\nk\r\n$3\r\n1.5\r\n"
        );
        assert_eq!(Frame::Null.to_resp(Proto::Resp2), b"$-1\r\n");
        assert_eq!(Frame::NullArray.to_resp(Proto::Resp2), b"*-1\r\n");
        assert_eq!(Frame::NullArray.to_resp(Proto::Resp3), b"_\r\n");
        assert_eq!(Frame::Boolean(true).to_resp(Proto::Resp2), b":1\r\n");
        assert_eq!(
            Frame::Set(vec![Frame::Integer(1)]).to_resp(Proto::Resp2),
            b"*1\r\n:1\r\n"
        );
        assert_eq!(Frame::Push(vec![]).to_resp(Proto::Resp2), b"*0\r\n");
        assert_eq!(
            Frame::BigNumber("12".into()).to_resp(Proto::Resp2),
            b"$2\r\n12\r\n"
        );
        assert_eq!(
            Frame::Verbatim("txt".into(), Bytes::from_static(b"hi")).to_resp(Proto::Resp2),
            b"$2\r\nhi\r\n"
        );
    }

    #[test]
    fn display_like_redis_cli() {
        assert_eq!(Frame::Simple("OK".into()).to_string(), "OK");
        assert_eq!(Frame::Error("ERR x".into()).to_string(), "(error) ERR x");
        assert_eq!(Frame::Integer(3).to_string(), "(integer) 3");
        assert_eq!(bulk(b"a\"b\n\x01").to_string(), "\"a\\\"b\\n\\x01\"");
        assert_eq!(Frame::Null.to_string(), "(nil)");
        assert_eq!(Frame::Array(vec![]).to_string(), "(empty array)");
        assert_eq!(Frame::Double(1.5).to_string(), "(double) 1.5");
        assert_eq!(Frame::Boolean(true).to_string(), "(true)");
        let items: Vec<Frame> = (1..=10).map(|i| bulk(i.to_string().as_bytes())).collect();
        let nested = Frame::Array(vec![
            bulk(b"a"),
            Frame::Array(vec![bulk(b"b"), bulk(b"c")]),
            Frame::Array(items),
        ]);
        assert_eq!(
            nested.to_string(),
            "1) \"a\"\n2) 1) \"b\"\n   2) \"c\"\n3)  1) \"1\"\n    2) \"2\"\n    3) \"3\"\n    4) \"4\"\n    5) \"5\"\n    6) \"6\"\n    7) \"7\"\n    8) \"8\"\n    9) \"9\"\n   10) \"10\""
        );
        let map = Frame::Map(vec![
            (bulk(b"k"), Frame::Integer(1)),
            (
                bulk(b"l"),
                Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]),
            ),
        ]);
        assert_eq!(
            map.to_string(),
            "1# \"k\" => (integer) 1\n2# \"l\" => \n   1) (integer) 1\n   2) (integer) 2"
        );
        assert_eq!(Frame::Set(vec![bulk(b"x")]).to_string(), "1~ \"x\"");
    }
}
