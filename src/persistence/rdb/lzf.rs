//! LZF, the compression Redis applies to RDB strings.
//!
//! The format (Marc Lehmann's liblzf): a stream of runs, each started by a
//! control byte:
//!
//! * `000LLLLL` then L+1 literal bytes (1..=32);
//! * `LLLooooo oooooooo`: copy L+2 bytes (L in 1..=6) from `o+1` bytes back;
//! * `111ooooo LLLLLLLL oooooooo`: copy L+9 bytes from `o+1` bytes back.
//!
//! The compressor follows liblzf's algorithm with Redis's build settings
//! (16-bit hash table, "very fast" mode), so for the same input it writes
//! the bytes Redis writes. Our own implementation: the `lzf` crate is a
//! deprecated rewrite, not a binding to liblzf, and the format is small.
//! The hash table is stamped with a generation per call instead of being
//! cleared, so compressing many short strings costs no 256 KB memset each.

use std::cell::RefCell;

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// The compressor's hash table: per slot, the generation that wrote it
/// (high 32 bits) and a position + 1 (low 32 bits).
struct State {
    table: Vec<u64>,
    generation: u32,
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            table: Vec::new(),
            generation: 0,
        })
    };
}

#[inline]
fn first(p: &[u8], i: usize) -> u32 {
    ((p[i] as u32) << 8) | p[i + 1] as u32
}

#[inline]
fn next(v: u32, p: &[u8], i: usize) -> u32 {
    (v << 8) | p[i + 2] as u32
}

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input` into at most `max_out` bytes; None when it does not
/// fit (as liblzf's `lzf_compress` returning 0). Inputs of 4 GiB or more
/// are not compressed.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.is_empty() || max_out == 0 || input.len() >= u32::MAX as usize {
        return None;
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.table.is_empty() {
            s.table = vec![0; HSIZE];
        }
        s.generation = s.generation.wrapping_add(1);
        if s.generation == 0 {
            s.table.iter_mut().for_each(|x| *x = 0);
            s.generation = 1;
        }
        let gen = s.generation;
        compress_with(&mut s.table, gen, input, max_out)
    })
}

fn compress_with(table: &mut [u64], gen: u32, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    // A few bytes of slack past max_out keep every store in bounds; the
    // checks below are liblzf's, so the result never exceeds max_out.
    let mut out = vec![0u8; max_out + 4];
    let out_end = max_out;
    let stamp = |pos: usize| ((gen as u64) << 32) | (pos as u64 + 1);
    let lookup = |slot: u64| -> Option<usize> {
        ((slot >> 32) as u32 == gen && slot as u32 != 0).then(|| (slot as u32 - 1) as usize)
    };

    let mut ip = 0usize;
    let mut op = 1usize; // start run
    let mut lit = 0usize;

    if in_len >= 2 {
        let mut hval = first(input, ip);
        while ip + 2 < in_len {
            hval = next(hval, input, ip);
            let slot = idx(hval);
            let r = lookup(table[slot]);
            table[slot] = stamp(ip);

            let found = r.and_then(|r| {
                let off = ip.wrapping_sub(r).wrapping_sub(1);
                (r < ip
                    && off < MAX_OFF
                    && r > 0
                    && input[r + 2] == input[ip + 2]
                    && input[r] == input[ip]
                    && input[r + 1] == input[ip + 1])
                    .then_some((r, off))
            });

            if let Some((r, off)) = found {
                let mut len = 2usize;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                    return None;
                }
                out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
                op -= usize::from(lit == 0); // undo run if length is zero

                // liblzf compares 16 bytes unrolled (without the maxlen
                // check) when maxlen > 16, then byte by byte; the match
                // length, and so the output, depends on that.
                let mut mismatch = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            mismatch = true;
                            break;
                        }
                    }
                }
                if !mismatch {
                    loop {
                        len += 1;
                        if len >= maxlen || input[r + len] != input[ip + len] {
                            break;
                        }
                    }
                }

                len -= 2; // now #octets - 1
                ip += 1;

                if len < 7 {
                    out[op] = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    out[op] = ((off >> 8) + (7 << 5)) as u8;
                    out[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                out[op] = off as u8;
                op += 1;

                lit = 0;
                op += 1; // start run

                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }

                ip -= 2;
                hval = first(input, ip);
                hval = next(hval, input, ip);
                table[idx(hval)] = stamp(ip);
                ip += 1;
                hval = next(hval, input, ip);
                table[idx(hval)] = stamp(ip);
                ip += 1;
            } else {
                if op >= out_end {
                    return None;
                }
                lit += 1;
                out[op] = input[ip];
                op += 1;
                ip += 1;
                if lit == MAX_LIT {
                    out[op - lit - 1] = (lit - 1) as u8; // stop run
                    lit = 0;
                    op += 1; // start run
                }
            }
        }
    }

    if op + 3 > out_end {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    op -= usize::from(lit == 0);
    if op > max_out {
        return None;
    }
    out.truncate(op);
    Some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // The announced size is untrusted: reserve what the input can plausibly
    // expand to and let real output grow the buffer past that.
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(out_len.min(64 + input.len().saturating_mul(8)))
        .ok()?;
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(input.get(ip..ip + n)?);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let mut back = (ctrl & 0x1f) << 8;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            back += *input.get(ip)? as usize;
            ip += 1;
            let back = back + 1;
            let n = len + 2;
            if out.len() + n > out_len || back > out.len() {
                return None;
            }
            let start = out.len() - back;
            if back >= n {
                out.extend_from_within(start..start + n);
            } else {
                for i in 0..n {
                    let b = out[start + i];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn roundtrip(data: &[u8]) {
        if let Some(c) = compress(data, data.len().saturating_sub(1).max(1)) {
            assert!(c.len() < data.len());
            assert_eq!(decompress(&c, data.len()).as_deref(), Some(data));
        }
        // With room to spare, everything compresses (possibly larger).
        let c = compress(data, data.len() + data.len() / 16 + 8);
        if !data.is_empty() {
            let c = c.expect("fits with slack");
            assert_eq!(decompress(&c, data.len()).as_deref(), Some(data));
        }
    }

    #[test]
    fn run_of_one_byte() {
        // Two literals (position 0 is never a reference), a 26-byte copy
        // from 1 back, two trailing literals: what liblzf writes.
        let data = vec![b'a'; 30];
        let c = compress(&data, 26).unwrap();
        assert_eq!(c, vec![0x01, b'a', b'a', 0xe0, 17, 0x00, 0x01, b'a', b'a']);
        assert_eq!(decompress(&c, 30).unwrap(), data);
    }

    #[test]
    fn roundtrips() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for len in [0usize, 1, 2, 3, 4, 5, 21, 33, 64, 100, 1000, 9000, 70000] {
            let random: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            roundtrip(&random);
            let text: Vec<u8> = (0..len).map(|i| b"abcab"[i % 5]).collect();
            roundtrip(&text);
            let few: Vec<u8> = (0..len).map(|_| rng.gen_range(b'a'..b'd')).collect();
            roundtrip(&few);
        }
    }

    #[test]
    fn hostile_input_is_refused() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None, "backref before start");
        assert_eq!(decompress(&[0x05, b'a'], 6), None, "literal overruns input");
        assert_eq!(decompress(&[0x00, b'a'], 2), None, "short output");
        assert_eq!(decompress(&[0x01, b'a', b'b'], 1), None, "long output");
        assert_eq!(decompress(&[0xe0], 10), None, "truncated backref");
        assert_eq!(decompress(&[], 0), Some(vec![]));
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        for _ in 0..2000 {
            let n = rng.gen_range(0..40);
            let junk: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            let _ = decompress(&junk, rng.gen_range(0..200));
        }
    }
}
