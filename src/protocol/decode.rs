//! Request parsing: bytes from a client socket into command arguments.
//!
//! Two request formats exist, chosen by the first byte of each request, as in
//! Redis's `processInputBuffer`:
//!
//! * multibulk (`*<n>\r\n` followed by `n` times `$<len>\r\n<bytes>\r\n`),
//!   what every client library sends;
//! * inline (anything not starting with `*`): one text line split with
//!   Redis's `sdssplitargs` quoting rules, what people type over telnet.
//!
//! The decoder is incremental: it keeps the multibulk count and the
//! arguments already cut from the buffer, so a request that arrives over many
//! reads (a pipelined batch, a 100 MB bulk) is never rescanned from its start.

use bytes::{Buf, Bytes, BytesMut};

use crate::util::splitargs::split_args;

/// Longest inline request, or multibulk/bulk count line, accepted without a
/// line terminator (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Largest multibulk count a client may send before authenticating.
pub const UNAUTH_MAX_MULTIBULK: u64 = 10;

/// Largest bulk length a client may send before authenticating.
pub const UNAUTH_MAX_BULK: u64 = 16 * 1024;

/// Upper bound on the argument vector pre-allocated from a client-supplied
/// count; beyond that the vector grows as arguments really arrive.
const MAX_PREALLOC_ARGS: usize = 1024;

/// Size limits applied while parsing one client's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk argument (`proto-max-bulk-len`, 512 MB by default).
    pub proto_max_bulk_len: u64,
    /// Largest number of arguments in one multibulk request.
    pub max_multibulk_len: u64,
    /// Whether the client has authenticated; unauthenticated clients get the
    /// much smaller [`UNAUTH_MAX_MULTIBULK`] / [`UNAUTH_MAX_BULK`] limits so
    /// that they cannot make the server buffer large requests.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: 1024 * 1024,
            authenticated: true,
        }
    }
}

/// A malformed request. After any of these Redis replies with the error
/// (prefixed with `ERR `) and closes the connection.
///
/// `Display` gives Redis's exact text without the `ERR ` prefix. The reply
/// parsing variants ([`ProtocolError::InvalidReply`]) are only produced by
/// [`crate::protocol::reply::parse_frame`].
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum ProtocolError {
    /// The multibulk count is not a number, is above `INT_MAX` or above
    /// [`Limits::max_multibulk_len`].
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// A bulk header did not start with `$`; holds the byte found instead.
    #[error("Protocol error: expected '$', got '{}'", printable(*.0))]
    ExpectedDollar(u8),
    /// The bulk length is not a number, is negative, or is above
    /// [`Limits::proto_max_bulk_len`].
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// More than 64 KB without the `\r` ending a multibulk count.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// More than 64 KB without the `\r` ending a bulk length.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// More than 64 KB of inline request without a newline.
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    /// An inline request with an unterminated quote.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// Multibulk count above 10 before authentication.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulk,
    /// Bulk length above 16 KB before authentication.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulk,
    /// A server reply that could not be parsed (reply parsing only).
    #[error("Protocol error: {0}")]
    InvalidReply(&'static str),
}

/// Redis formats the offending byte with `%c` and then replaces CR/LF with
/// spaces so the error line stays one line; do the same.
fn printable(b: u8) -> char {
    match b {
        b'\r' | b'\n' => ' ',
        other => char::from(other),
    }
}

/// Incremental parser for one connection's request stream.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// Bulks still expected by the multibulk request in progress; 0 when no
    /// multibulk request is in progress.
    multibulk_left: usize,
    /// Length of the bulk whose `$<len>` line was consumed but whose payload
    /// has not fully arrived yet.
    bulk_len: Option<usize>,
    /// Arguments of the request in progress, already cut from the buffer.
    args: Vec<Bytes>,
    /// Bytes at the front of the buffer already searched, in vain, for the
    /// terminator of the line being read; saves rescanning long partial lines.
    scanned: usize,
    /// Minimum bytes still needed, recorded when `decode` returned `None`.
    hint: usize,
    /// Payload bytes of `args` (memory accounting).
    args_bytes: usize,
}

impl RequestDecoder {
    /// Creates a decoder with no request in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one complete request from the front of `buf`, consuming its
    /// bytes.
    ///
    /// * `Ok(None)`: more bytes are needed; what was already parsed is kept
    ///   in the decoder, so call again with the same (grown) buffer.
    /// * `Ok(Some(args))`: one request. The arguments are zero-copy slices
    ///   of the buffer's allocation, so a caller keeping one for long (as a
    ///   stored value) should copy it rather than pin the whole read buffer.
    ///   An empty vector is an empty request (blank inline line, `*0`,
    ///   `*-1`) that Redis silently ignores.
    /// * `Err(_)`: the stream is malformed; reply with `-ERR <error>` and
    ///   close the connection. The decoder state is unspecified afterwards.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        self.hint = 0;
        if self.multibulk_left == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            if buf[0] != b'*' {
                return self.decode_inline(buf);
            }
            let count = match self.read_count_line(buf, ProtocolError::TooBigMultibulkCount)? {
                Some(count) => count,
                None => return Ok(None),
            };
            let count = match count {
                Some(n) if n <= i64::from(i32::MAX) => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if count > 0 && count as u64 > limits.max_multibulk_len {
                return Err(ProtocolError::InvalidMultibulkLength);
            }
            if !limits.authenticated && count > UNAUTH_MAX_MULTIBULK as i64 {
                return Err(ProtocolError::UnauthenticatedMultibulk);
            }
            if count <= 0 {
                return Ok(Some(Vec::new()));
            }
            // The count is client-supplied: don't trust it for allocation.
            let count = count as usize;
            self.multibulk_left = count;
            self.args = Vec::with_capacity(count.min(MAX_PREALLOC_ARGS));
            self.args_bytes = 0;
        }

        while self.multibulk_left > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    // Redis checks the type byte only once the whole line is
                    // there, so a partial line is never an error by itself.
                    let first = buf[0];
                    let len = match self.read_count_line(buf, ProtocolError::TooBigBulkCount)? {
                        Some(len) => len,
                        None => return Ok(None),
                    };
                    if first != b'$' {
                        return Err(ProtocolError::ExpectedDollar(first));
                    }
                    let len = match len {
                        Some(n) if n >= 0 && n as u64 <= limits.proto_max_bulk_len => n as u64,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if !limits.authenticated && len > UNAUTH_MAX_BULK {
                        return Err(ProtocolError::UnauthenticatedBulk);
                    }
                    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
                    self.bulk_len = Some(len);
                    len
                }
            };
            // Payload plus its trailing CRLF. Like Redis, the two bytes after
            // the payload are skipped without being checked.
            let needed = len.saturating_add(2);
            if buf.len() < needed {
                self.hint = needed - buf.len();
                return Ok(None);
            }
            let arg = buf.split_to(len).freeze();
            buf.advance(2);
            self.args_bytes += arg.len();
            self.args.push(arg);
            self.bulk_len = None;
            self.multibulk_left -= 1;
        }
        self.args_bytes = 0;
        Ok(Some(std::mem::take(&mut self.args)))
    }

    /// Bytes of the arguments of the request in progress already cut from
    /// the buffer: with the buffer, what the query holds (CLIENT LIST qbuf,
    /// memory accounting).
    pub fn pending_bytes(&self) -> usize {
        self.args_bytes
    }

    /// How many more bytes the request in progress needs at least, as of the
    /// last `decode` call that returned `Ok(None)`; 0 if unknown. While a big
    /// bulk is arriving this is the rest of its payload, letting the caller
    /// reserve exactly that much once instead of growing the buffer step by
    /// step.
    pub fn bytes_hint(&self) -> usize {
        self.hint
    }

    /// Reads an inline request: one line ended by `\n` (optionally `\r\n`).
    fn decode_inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let start = self.scanned.min(buf.len());
        let newline = match buf[start..].iter().position(|&b| b == b'\n') {
            Some(i) => start + i,
            None => {
                if buf.len() > INLINE_MAX_SIZE {
                    return Err(ProtocolError::TooBigInline);
                }
                self.scanned = buf.len();
                return Ok(None);
            }
        };
        self.scanned = 0;
        let line_end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        let args = split_args(&buf[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        buf.advance(newline + 1);
        Ok(Some(args.into_iter().map(Bytes::from).collect()))
    }

    /// Reads a `*<n>\r\n` or `$<n>\r\n` line at the front of `buf`.
    ///
    /// Returns `Ok(None)` if the line is incomplete, `Ok(Some(None))` if the
    /// number after the type byte is not a valid integer, and
    /// `Ok(Some(Some(n)))` otherwise; the line is consumed in both latter
    /// cases. Following Redis, the line ends at the first `\r`, which must be
    /// followed by one more byte (assumed to be `\n`, not checked).
    fn read_count_line(
        &mut self,
        buf: &mut BytesMut,
        too_big: ProtocolError,
    ) -> Result<Option<Option<i64>>, ProtocolError> {
        let start = self.scanned.min(buf.len());
        let cr = match buf[start..].iter().position(|&b| b == b'\r') {
            Some(i) => start + i,
            None => {
                if buf.len() > INLINE_MAX_SIZE {
                    return Err(too_big);
                }
                self.scanned = buf.len();
                return Ok(None);
            }
        };
        // The '\r' is found, so later calls need not scan again; remember
        // that in case the byte after it is still missing.
        self.scanned = cr;
        if cr + 1 >= buf.len() {
            self.hint = cr + 2 - buf.len();
            return Ok(None);
        }
        self.scanned = 0;
        // `cr` may be 0 (a bare "\r\n"); the caller then rejects the type byte.
        let value = buf.get(1..cr).and_then(parse_i64);
        buf.advance(cr + 2);
        Ok(Some(value))
    }
}

/// Parses a decimal integer with Redis's `string2ll` rules (headers of
/// requests and replies use the same parser as command arguments).
pub use crate::util::num::string2ll as parse_i64;

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn unauth() -> Limits {
        Limits {
            authenticated: false,
            ..Limits::default()
        }
    }

    fn args(items: &[&[u8]]) -> Vec<Bytes> {
        items.iter().map(|s| Bytes::copy_from_slice(s)).collect()
    }

    /// Decodes everything in `input` at once, returning all requests, the
    /// first error, and what is left in the buffer.
    fn decode_all(
        input: &[u8],
        limits: &Limits,
    ) -> (Vec<Vec<Bytes>>, Option<ProtocolError>, Vec<u8>) {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match dec.decode(&mut buf, limits) {
                Ok(Some(req)) => out.push(req),
                Ok(None) => return (out, None, buf.to_vec()),
                Err(e) => return (out, Some(e), buf.to_vec()),
            }
        }
    }

    /// Feeds `input` one byte at a time, decoding after every byte.
    fn decode_bytewise(input: &[u8], limits: &Limits) -> (Vec<Vec<Bytes>>, Option<ProtocolError>) {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for &b in input {
            buf.extend_from_slice(&[b]);
            loop {
                match dec.decode(&mut buf, limits) {
                    Ok(Some(req)) => out.push(req),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    /// Feeds `input` split in two at every position.
    fn assert_all_splits(input: &[u8], limits: &Limits, expected: &[Vec<Bytes>]) {
        for cut in 0..=input.len() {
            let mut dec = RequestDecoder::new();
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for part in [&input[..cut], &input[cut..]] {
                buf.extend_from_slice(part);
                while let Some(req) = dec.decode(&mut buf, limits).expect("valid input") {
                    out.push(req);
                }
            }
            assert_eq!(out, expected, "split at {cut}");
            assert!(buf.is_empty(), "split at {cut}");
        }
    }

    fn err_of(input: &[u8], limits: &Limits) -> ProtocolError {
        let (_, err, _) = decode_all(input, limits);
        err.expect("an error")
    }

    #[test]
    fn single_multibulk() {
        let (reqs, err, rest) =
            decode_all(b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n", &limits());
        assert_eq!(reqs, vec![args(&[b"SET", b"foo", b"bar"])]);
        assert_eq!(err, None);
        assert!(rest.is_empty());
    }

    #[test]
    fn pipelined_requests_in_one_buffer() {
        let input = b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO hi\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
        let (reqs, err, rest) = decode_all(input, &limits());
        assert_eq!(
            reqs,
            vec![
                args(&[b"PING"]),
                args(&[b"GET", b"k"]),
                args(&[b"ECHO", b"hi"]),
                args(&[b"ECHO", b""]),
            ]
        );
        assert_eq!(err, None);
        assert!(rest.is_empty());
    }

    #[test]
    fn partial_request_stays_in_decoder() {
        let (reqs, err, rest) = decode_all(b"*2\r\n$3\r\nGET\r\n$5\r\nab", &limits());
        assert!(reqs.is_empty());
        assert_eq!(err, None);
        // The first argument was cut out already; only the partial bulk remains.
        assert_eq!(rest, b"ab");
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let input: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$10\r\n0123456789\r\nPING\r\n\r\nset a \"b c\"\n*0\r\n*-1\r\n*1\r\n$4\r\nQUIT\r\n";
        let (whole, err, rest) = decode_all(input, &limits());
        assert_eq!(err, None);
        assert!(rest.is_empty());
        assert_eq!(
            whole,
            vec![
                args(&[b"SET", b"foo", b"0123456789"]),
                args(&[b"PING"]),
                vec![],
                args(&[b"set", b"a", b"b c"]),
                vec![],
                vec![],
                args(&[b"QUIT"]),
            ]
        );
        let (bytewise, err) = decode_bytewise(input, &limits());
        assert_eq!(err, None);
        assert_eq!(bytewise, whole);
        assert_all_splits(input, &limits(), &whole);
    }

    #[test]
    fn big_bulk_split_over_reads_with_hint() {
        let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut input = b"*2\r\n$3\r\nSET\r\n$100000\r\n".to_vec();
        input.extend_from_slice(&payload);
        input.extend_from_slice(b"\r\n");

        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut fed = 0;
        let mut result = None;
        let mut hints = Vec::new();
        while fed < input.len() {
            let end = (fed + 16 * 1024).min(input.len());
            buf.extend_from_slice(&input[fed..end]);
            fed = end;
            match dec.decode(&mut buf, &limits()).expect("valid") {
                Some(req) => result = Some(req),
                None => hints.push((dec.bytes_hint(), input.len() - fed)),
            }
        }
        let req = result.expect("complete request");
        assert_eq!(req.len(), 2);
        assert_eq!(&req[1][..], &payload[..]);
        assert!(buf.is_empty());
        // Once the bulk header is read, the hint is exactly what is missing.
        assert!(!hints.is_empty());
        for (hint, missing) in hints {
            assert_eq!(hint, missing);
        }
    }

    #[test]
    fn hint_for_partial_crlf_and_lines() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1\r\n$3\r\nfoo"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(dec.bytes_hint(), 2);
        buf.extend_from_slice(b"\r");
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(dec.bytes_hint(), 1);
        buf.extend_from_slice(b"\n");
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(Some(args(&[b"foo"]))));
        assert_eq!(dec.bytes_hint(), 0);

        let mut buf = BytesMut::from(&b"*1\r\n$3"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(dec.bytes_hint(), 0);
        buf.extend_from_slice(b"\r");
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert_eq!(dec.bytes_hint(), 1);
    }

    #[test]
    fn args_are_zero_copy_slices() {
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let req = RequestDecoder::new()
            .decode(&mut buf, &limits())
            .expect("valid")
            .expect("complete");
        assert_eq!(req[0].as_ptr() as usize, base + 8);
        assert_eq!(req[1].as_ptr() as usize, base + 17);
    }

    #[test]
    fn binary_safe_bulks() {
        let (reqs, err, _) = decode_all(b"*1\r\n$4\r\n\r\n\0\xff\r\n", &limits());
        assert_eq!(err, None);
        assert_eq!(reqs, vec![args(&[b"\r\n\0\xff"])]);
    }

    #[test]
    fn bulk_trailer_is_not_checked() {
        // Redis skips the two bytes after the payload without looking at them.
        let (reqs, err, _) = decode_all(b"*1\r\n$3\r\nfooXY*1\r\n$1\r\na\r\n", &limits());
        assert_eq!(err, None);
        assert_eq!(reqs, vec![args(&[b"foo"]), args(&[b"a"])]);
    }

    #[test]
    fn empty_multibulk_counts() {
        for input in [&b"*0\r\n"[..], b"*-1\r\n", b"*-5\r\n"] {
            let (reqs, err, rest) = decode_all(input, &limits());
            assert_eq!(reqs, vec![Vec::<Bytes>::new()]);
            assert_eq!(err, None);
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn invalid_multibulk_length() {
        for input in [
            &b"*abc\r\n"[..],
            b"*\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"* 1\r\n",
            b"*1 \r\n",
            b"*2147483648\r\n",
            b"*99999999999999999999999\r\n",
            b"*-0\r\n",
        ] {
            assert_eq!(
                err_of(input, &limits()),
                ProtocolError::InvalidMultibulkLength,
                "{input:?}"
            );
        }
        let small = Limits {
            max_multibulk_len: 3,
            ..Limits::default()
        };
        assert_eq!(
            err_of(b"*4\r\n", &small),
            ProtocolError::InvalidMultibulkLength
        );
        assert_eq!(decode_all(b"*3\r\n", &small).1, None);
    }

    #[test]
    fn expected_dollar() {
        let err = err_of(b"*1\r\n:3\r\nfoo\r\n", &limits());
        assert_eq!(err, ProtocolError::ExpectedDollar(b':'));
        assert_eq!(err.to_string(), "Protocol error: expected '$', got ':'");
        // A CR in that position is printed as a space, keeping the reply one line.
        let err = err_of(b"*1\r\n\r\n", &limits());
        assert_eq!(err.to_string(), "Protocol error: expected '$', got ' '");
        // The type byte is only checked once the line is complete.
        assert_eq!(decode_all(b"*1\r\nx", &limits()).1, None);
    }

    #[test]
    fn invalid_bulk_length() {
        for input in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$x\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$03\r\n",
        ] {
            assert_eq!(
                err_of(input, &limits()),
                ProtocolError::InvalidBulkLength,
                "{input:?}"
            );
        }
        let small = Limits {
            proto_max_bulk_len: 5,
            ..Limits::default()
        };
        assert_eq!(
            err_of(b"*1\r\n$6\r\n", &small),
            ProtocolError::InvalidBulkLength
        );
        assert_eq!(decode_all(b"*1\r\n$5\r\n", &small).1, None);
    }

    #[test]
    fn too_big_count_strings() {
        let mut input = b"*".to_vec();
        input.resize(INLINE_MAX_SIZE + 1, b'1');
        assert_eq!(decode_all(&input[..INLINE_MAX_SIZE], &limits()).1, None);
        assert_eq!(
            err_of(&input, &limits()),
            ProtocolError::TooBigMultibulkCount
        );

        let mut input = b"*1\r\n$".to_vec();
        input.resize(4 + INLINE_MAX_SIZE + 1, b'1');
        assert_eq!(decode_all(&input[..4 + INLINE_MAX_SIZE], &limits()).1, None);
        assert_eq!(err_of(&input, &limits()), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn too_big_inline() {
        let input = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(decode_all(&input[..INLINE_MAX_SIZE], &limits()).1, None);
        assert_eq!(err_of(&input, &limits()), ProtocolError::TooBigInline);
        // A long line that does end is fine.
        let mut ok = vec![b'a'; INLINE_MAX_SIZE + 10];
        ok.push(b'\n');
        let (reqs, err, _) = decode_all(&ok, &limits());
        assert_eq!(err, None);
        assert_eq!(reqs[0][0].len(), INLINE_MAX_SIZE + 10);
    }

    #[test]
    fn too_big_inline_detected_when_fed_bytewise() {
        let input = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(
            decode_bytewise(&input, &limits()).1,
            Some(ProtocolError::TooBigInline)
        );
    }

    #[test]
    fn inline_requests() {
        let (reqs, err, rest) = decode_all(
            b"PING\r\nset k \"a b\\x41\\n\"\nGET 'x y'\r\n\r\n\n   \r\n",
            &limits(),
        );
        assert_eq!(err, None);
        assert!(rest.is_empty());
        assert_eq!(
            reqs,
            vec![
                args(&[b"PING"]),
                args(&[b"set", b"k", b"a bA\n"]),
                args(&[b"GET", b"x y"]),
                vec![],
                vec![],
                vec![],
            ]
        );
    }

    #[test]
    fn inline_unbalanced_quotes() {
        let err = err_of(b"SET \"foo bar\r\n", &limits());
        assert_eq!(err, ProtocolError::UnbalancedQuotes);
        assert_eq!(
            err_of(b"SET \"foo\"bar\r\n", &limits()),
            ProtocolError::UnbalancedQuotes
        );
    }

    #[test]
    fn inline_waits_for_newline() {
        let (reqs, err, rest) = decode_all(b"PING", &limits());
        assert!(reqs.is_empty());
        assert_eq!(err, None);
        assert_eq!(rest, b"PING");
    }

    #[test]
    fn unauthenticated_limits() {
        let mut ok = b"*10\r\n".to_vec();
        for _ in 0..10 {
            ok.extend_from_slice(b"$1\r\na\r\n");
        }
        assert_eq!(decode_all(&ok, &unauth()).0.len(), 1);
        assert_eq!(
            err_of(b"*11\r\n", &unauth()),
            ProtocolError::UnauthenticatedMultibulk
        );
        assert_eq!(decode_all(b"*11\r\n", &limits()).1, None);

        assert_eq!(decode_all(b"*1\r\n$16384\r\n", &unauth()).1, None);
        assert_eq!(
            err_of(b"*1\r\n$16385\r\n", &unauth()),
            ProtocolError::UnauthenticatedBulk
        );
        assert_eq!(decode_all(b"*1\r\n$16385\r\n", &limits()).1, None);
        // Invalid lengths are reported before the authentication limits.
        assert_eq!(
            err_of(b"*2147483648\r\n", &unauth()),
            ProtocolError::InvalidMultibulkLength
        );
        assert_eq!(
            err_of(b"*1\r\n$-2\r\n", &unauth()),
            ProtocolError::InvalidBulkLength
        );
    }

    #[test]
    fn error_strings_exact() {
        let cases = [
            (
                ProtocolError::InvalidMultibulkLength,
                "Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::ExpectedDollar(b'x'),
                "Protocol error: expected '$', got 'x'",
            ),
            (
                ProtocolError::InvalidBulkLength,
                "Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::TooBigMultibulkCount,
                "Protocol error: too big mbulk count string",
            ),
            (
                ProtocolError::TooBigBulkCount,
                "Protocol error: too big bulk count string",
            ),
            (
                ProtocolError::TooBigInline,
                "Protocol error: too big inline request",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "Protocol error: unbalanced quotes in request",
            ),
            (
                ProtocolError::UnauthenticatedMultibulk,
                "Protocol error: unauthenticated multibulk length",
            ),
            (
                ProtocolError::UnauthenticatedBulk,
                "Protocol error: unauthenticated bulk length",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn huge_count_does_not_preallocate() {
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"*1048576\r\n"[..]);
        assert_eq!(dec.decode(&mut buf, &limits()), Ok(None));
        assert!(dec.args.capacity() <= MAX_PREALLOC_ARGS);
    }

    #[test]
    fn parse_i64_matches_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }
}
