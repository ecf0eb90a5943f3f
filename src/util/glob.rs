//! Glob-style pattern matching with the exact semantics of Redis's
//! `stringmatchlen()` (util.c), used by `KEYS`, `SCAN ... MATCH`,
//! `CONFIG GET`, `PSUBSCRIBE` and friends.
//!
//! Supported syntax:
//! * `*` matches any sequence of bytes (including none),
//! * `?` matches exactly one byte,
//! * `[abc]`, `[^abc]`, `[a-z]` (ranges may be reversed, `[z-a]`) match one
//!   byte from (or not from) a set; `\` escapes inside brackets,
//! * `\x` matches `x` literally.
//!
//! Quirks kept on purpose for compatibility: an unterminated `[` set runs to
//! the end of the pattern, ranges compare bytes as *signed* chars (like C on
//! x86), a non-empty pattern never matches the empty string (so `*` does not
//! match `""`), and recursion is capped at a nesting depth of 1000.

// Shared helpers: not every one is used by the server yet.
#![allow(dead_code)]

/// Returns true when `string` matches the glob `pattern`.
/// With `nocase`, ASCII letters compare case-insensitively.
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// Convenience wrapper over [`string_match`] for `&str` arguments.
pub fn string_match_str(pattern: &str, string: &str, nocase: bool) -> bool {
    string_match(pattern.as_bytes(), string.as_bytes(), nocase)
}

/// True when the pattern contains a glob metacharacter (`*`, `?`, `[`),
/// the test `CONFIG GET` uses to decide between exact lookup and matching.
pub fn has_glob_chars(pattern: &[u8]) -> bool {
    pattern.iter().any(|&b| matches!(b, b'*' | b'?' | b'['))
}

#[inline]
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// Signed-char view of a byte, lowered when `nocase` (C `tolower` leaves
/// negative values untouched).
#[inline]
fn signed(b: u8, nocase: bool) -> i32 {
    fold(b, nocase) as i8 as i32
}

#[inline]
fn lower_i(v: i32) -> i32 {
    if (0..128).contains(&v) {
        (v as u8).to_ascii_lowercase() as i32
    } else {
        v
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    let mut p = 0usize;
    let mut si = 0usize;
    while p < pat.len() && si < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while si < s.len() {
                    if match_impl(&pat[p + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                // Nothing matched the rest of the pattern at any offset:
                // earlier stars cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let rem = pat.len() - p;
                    if at(p) == b'\\' && rem >= 2 {
                        p += 1;
                        if pat[p] == s[si] {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if rem == 0 {
                        // Unterminated set: step back so the common
                        // advance below lands on the end of the pattern.
                        p -= 1;
                        break;
                    } else if rem >= 3 && pat[p + 1] == b'-' {
                        let mut start = signed(pat[p], false);
                        let mut end = signed(pat[p + 2], false);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower_i(start);
                            end = lower_i(end);
                        }
                        let c = signed(s[si], nocase);
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if fold(pat[p], nocase) == fold(s[si], nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            c => {
                let lit = if c == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if fold(lit, nocase) != fold(s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        p += 1;
        if si == s.len() {
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pat.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), false)
    }
    fn mi(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn basics() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
        assert!(m("foo*bar", "foobar"));
        assert!(!m("foo*bar", "foobarx"));
    }

    #[test]
    fn brackets() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Unterminated set runs to the end of the pattern.
        assert!(m("a[bc", "ab"));
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
        // Escapes inside sets.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "b"));
        // "Nested" brackets: '[' is an ordinary member inside a set.
        assert!(m("[[]", "["));
        assert!(m("[[a]]", "a]"));
        assert!(!m("[[a]]", "a"));
        assert!(m("[a-]", "a"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?b", "a?b"));
        assert!(!m("a\\?b", "axb"));
        assert!(m("\\", "\\"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\[a]", "[a]"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HELLO", "hello"));
        assert!(!m("HELLO", "hello"));
        assert!(mi("h[A-Z]llo", "hello"));
        assert!(mi("h[E]llo", "hello"));
        assert!(mi("*MEMORY*", "maxmemory-policy"));
        assert!(!m("h[A-Z]llo", "hello"));
    }

    #[test]
    fn pathological_patterns_terminate() {
        let pat = "a*".repeat(30) + "b";
        let s = "a".repeat(60);
        assert!(!m(&pat, &s));
        let deep = "*".repeat(5000) + "x";
        assert!(m(&deep, "x"));
    }

    #[test]
    fn glob_char_detection() {
        assert!(has_glob_chars(b"max*"));
        assert!(has_glob_chars(b"a?"));
        assert!(has_glob_chars(b"[a]"));
        assert!(!has_glob_chars(b"maxmemory"));
    }
}
