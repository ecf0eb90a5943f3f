//! Splitting of a text line into arguments with Redis's quoting rules.
//!
//! This mirrors the behaviour of Redis's `sdssplitargs`, which is used for
//! inline commands (`PING "hello world"` typed over telnet) and for
//! `redis.conf` lines. The rules are:
//!
//! * arguments are separated by blanks (space, `\t`, `\n`, `\r`, `\v`, `\f`
//!   between arguments; only space, `\t`, `\n`, `\r` end an unquoted
//!   argument);
//! * `"double quotes"` accept the escapes `\n \r \t \b \a`, `\xHH` (two hex
//!   digits) and `\<any>` for a literal character;
//! * `'single quotes'` only accept `\'`; every other byte is literal;
//! * a closing quote must be followed by a blank or the end of the line,
//!   otherwise the whole line is rejected (like an unterminated quote);
//! * quotes may start in the middle of an argument (`foo"bar"` is `foobar`);
//! * Redis works on C strings, so a NUL byte ends the line.

/// Splits `line` into arguments following Redis's `sdssplitargs` rules.
///
/// Returns `None` when the quotes are unbalanced, or when a closing quote is
/// directly followed by something other than a blank. An empty or all-blank
/// line gives an empty vector.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis sees a C string: everything from the first NUL on is invisible.
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    // Reading past the end yields 0, like reading the C terminator would,
    // which keeps the look-ahead checks below simple.
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };

    let mut args = Vec::new();
    let mut p = 0usize;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }

        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' && is_hex(at(p + 2)) && is_hex(at(p + 3)) {
                    current.push(hex_val(at(p + 2)) * 16 + hex_val(at(p + 3)));
                    p += 4;
                    continue;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    let next = at(p + 1);
                    if next != 0 && !is_c_space(next) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    let next = at(p + 1);
                    if next != 0 && !is_c_space(next) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => current.push(other),
                }
            }
            p += 1;
        }
        args.push(current);
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(s)
    }

    fn v(items: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(items.iter().map(|s| s.to_vec()).collect())
    }

    #[test]
    fn plain_words() {
        assert_eq!(split(b"set foo bar"), v(&[b"set", b"foo", b"bar"]));
        assert_eq!(split(b"  set \t foo  "), v(&[b"set", b"foo"]));
        assert_eq!(split(b"a\r\nb"), v(&[b"a", b"b"]));
    }

    #[test]
    fn empty_and_blank_lines() {
        assert_eq!(split(b""), v(&[]));
        assert_eq!(split(b"   \t "), v(&[]));
        // \v and \f are skipped between arguments.
        assert_eq!(split(b"\x0b\x0c"), v(&[]));
    }

    #[test]
    fn vertical_tab_does_not_end_unquoted_argument() {
        assert_eq!(split(b"a\x0bb c"), v(&[b"a\x0bb", b"c"]));
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(split(b"set \"hello world\""), v(&[b"set", b"hello world"]));
        assert_eq!(
            split(b"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\""),
            v(&[b"\n\r\t\x08\x07\\\"q"])
        );
        assert_eq!(split(b"\"\\x41\\x4a\\xff\\x00z\""), v(&[b"AJ\xff\x00z"]));
        // \x without two hex digits is just an escaped 'x'.
        assert_eq!(split(b"\"\\xZZ\""), v(&[b"xZZ"]));
        assert_eq!(split(b"\"\\x4\""), v(&[b"x4"]));
        assert_eq!(split(b"\"\""), v(&[b""]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split(b"'a \\n b'"), v(&[b"a \\n b"]));
        assert_eq!(split(b"'it\\'s'"), v(&[b"it's"]));
        assert_eq!(split(b"''"), v(&[b""]));
    }

    #[test]
    fn quotes_inside_argument_join() {
        assert_eq!(split(b"foo\"bar baz\" x"), v(&[b"foobar baz", b"x"]));
        assert_eq!(split(b"a'b c'"), v(&[b"ab c"]));
    }

    #[test]
    fn closing_quote_must_be_followed_by_blank() {
        assert_eq!(split(b"\"foo\"bar"), None);
        assert_eq!(split(b"'foo'bar"), None);
        assert_eq!(split(b"\"foo\" bar"), v(&[b"foo", b"bar"]));
        assert_eq!(split(b"\"foo\"\x0bbar"), v(&[b"foo", b"bar"]));
    }

    #[test]
    fn unbalanced_quotes() {
        assert_eq!(split(b"\"foo"), None);
        assert_eq!(split(b"'foo"), None);
        assert_eq!(split(b"\"foo\\\""), None);
        assert_eq!(split(b"\"foo\\"), None);
        assert_eq!(split(b"set \"a"), None);
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(split(b"a b\0c d"), v(&[b"a", b"b"]));
        assert_eq!(split(b"\"ab\0\""), None);
    }

    #[test]
    fn non_ascii_bytes_are_kept() {
        assert_eq!(split(b"\xc3\xa9t\xe9 x"), v(&[b"\xc3\xa9t\xe9", b"x"]));
    }
}
