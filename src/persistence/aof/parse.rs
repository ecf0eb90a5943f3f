//! Reading commands back from an AOF file: RESP arrays of bulk strings,
//! with `#` annotation lines (`#TS:<unix time>`) skipped.
//!
//! The reader follows Redis's `loadSingleAppendOnlyFile` byte for byte in
//! what it accepts: lines are read as `fgets` would (a line of at most
//! [`LINE_MAX`] bytes), the two bytes after each argument are skipped
//! without being checked, and the end of the input inside a command is
//! [`ReadError::Truncated`] (a short read, which `aof-load-truncated`
//! recovers from) while any other deviation is [`ReadError::Format`].
//! No allocation is sized from a length in the file before the bytes are
//! known to be there.

use bytes::Bytes;

/// Redis's `AOF_ANNOTATION_LINE_MAX_LEN`: the `fgets` buffer size.
const LINE_MAX: usize = 1024;

/// Why reading stopped before the end of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The input ends inside a command.
    Truncated,
    /// Not an AOF command.
    Format,
}

/// A cursor over the bytes of one file.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Reader<'a> {
        Reader {
            data,
            pos: pos.min(data.len()),
        }
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// `fgets`: up to and including a newline, at most `LINE_MAX - 1`
    /// bytes; `None` at the end of the input.
    fn line(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let window = &rest[..rest.len().min(LINE_MAX - 1)];
        let n = window
            .iter()
            .position(|&b| b == b'\n')
            .map_or(window.len(), |i| i + 1);
        self.pos += n;
        Some(&rest[..n])
    }

    /// The next command, `Ok(None)` at a clean end of the input.
    pub fn next_command(&mut self) -> Result<Option<Vec<Bytes>>, ReadError> {
        let line = loop {
            match self.line() {
                None => return Ok(None),
                Some(l) if l[0] == b'#' => {
                    // An annotation longer than the buffer: skip its rest.
                    if l.last() != Some(&b'\n') {
                        while let Some(more) = self.line() {
                            if more.last() == Some(&b'\n') {
                                break;
                            }
                        }
                    }
                }
                Some(l) => break l,
            }
        };
        if line[0] != b'*' {
            return Err(ReadError::Format);
        }
        if line.len() == 1 {
            return Err(ReadError::Truncated);
        }
        let argc = atol(&line[1..]);
        if argc < 1 {
            return Err(ReadError::Format);
        }
        let mut argv = Vec::with_capacity((argc as usize).min(1024));
        for _ in 0..argc {
            let Some(line) = self.line() else {
                return Err(ReadError::Truncated);
            };
            if line[0] != b'$' {
                return Err(ReadError::Format);
            }
            let len = atol(&line[1..]);
            let Ok(len) = usize::try_from(len) else {
                return Err(ReadError::Format);
            };
            let rest = self.data.len() - self.pos;
            if len > rest {
                return Err(ReadError::Truncated);
            }
            argv.push(Bytes::copy_from_slice(&self.data[self.pos..self.pos + len]));
            self.pos += len;
            if self.data.len() - self.pos < 2 {
                return Err(ReadError::Truncated);
            }
            self.pos += 2;
        }
        Ok(Some(argv))
    }
}

/// C's `strtol` base 10 / `atoi` on a line: leading blanks, a sign,
/// digits; 0 when there are none. Saturates instead of overflowing.
fn atol(b: &[u8]) -> i64 {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        i += 1;
    }
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> (Vec<Vec<Bytes>>, Result<(), ReadError>, usize) {
        let mut r = Reader::new(data, 0);
        let mut out = Vec::new();
        let mut valid = 0;
        loop {
            match r.next_command() {
                Ok(Some(c)) => {
                    out.push(c);
                    valid = r.pos();
                }
                Ok(None) => return (out, Ok(()), valid),
                Err(e) => return (out, Err(e), valid),
            }
        }
    }

    #[test]
    fn reads_commands_and_skips_annotations() {
        let data = b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
        let (cmds, end, valid) = all(data);
        assert_eq!(end, Ok(()));
        assert_eq!(valid, data.len());
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1], vec![Bytes::from("SET"), "k".into(), "".into()]);
    }

    #[test]
    fn short_reads_are_truncations_and_garbage_is_a_format_error() {
        let good = b"*2\r\n$4\r\nINCR\r\n$3\r\nfoo\r\n";
        for cut in 1..good.len() {
            let mut d = good.to_vec();
            d.extend_from_slice(&good[..cut]);
            let (cmds, end, valid) = all(&d);
            assert_eq!(cmds.len(), 1, "cut {cut}");
            assert_eq!(end, Err(ReadError::Truncated), "cut {cut}");
            assert_eq!(valid, good.len());
        }
        let (_, end, _) = all(b"*2\r\n$3\r\nSET\r\n!!!");
        assert_eq!(end, Err(ReadError::Format));
        let (cmds, end, _) = all(b"*1\r\n$4\r\nPING\r\n!!!*1\r\n");
        assert_eq!((cmds.len(), end), (1, Err(ReadError::Format)));
        assert_eq!(all(b"*0\r\n").1, Err(ReadError::Format));
        assert_eq!(all(b"*1\r\n$-5\r\n").1, Err(ReadError::Format));
        // A huge length is a short read, not an allocation.
        assert_eq!(
            all(b"*1\r\n$99999999999999\r\nab\r\n").1,
            Err(ReadError::Truncated)
        );
        assert_eq!(all(b"*99999999999\r\n").1, Err(ReadError::Truncated));
    }
}
