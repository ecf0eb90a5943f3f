//! CRC-64/Jones, the checksum of RDB files and DUMP payloads: polynomial
//! 0xad93d23594c935a9, reflected input and output, initial value 0, no
//! final xor (Redis's `crc64`; "123456789" gives 0xe9c6d914c4b8d9ca).
//!
//! Slicing-by-16: sixteen 256-entry tables built at compile time fold 16
//! input bytes per iteration with 16 independent lookups, instead of one
//! dependent lookup per byte (the `crc64` crate's loop). `crc64(crc, data)`
//! continues a running checksum, so a file's checksum can be summed piece
//! by piece.

/// The reflected polynomial.
const POLY: u64 = 0x95ac_9329_ac4b_c9b5;

const fn tables() -> [[u64; 256]; 16] {
    let mut t = [[0u64; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut b = 0;
        while b < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            b += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static TABLES: [[u64; 256]; 16] = tables();

/// Continues the checksum `crc` over `data`.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&c[..8]);
        hi.copy_from_slice(&c[8..]);
        let a = (crc ^ u64::from_le_bytes(lo)).to_le_bytes();
        let b = hi;
        crc = t[15][a[0] as usize]
            ^ t[14][a[1] as usize]
            ^ t[13][a[2] as usize]
            ^ t[12][a[3] as usize]
            ^ t[11][a[4] as usize]
            ^ t[10][a[5] as usize]
            ^ t[9][a[6] as usize]
            ^ t[8][a[7] as usize]
            ^ t[7][b[0] as usize]
            ^ t[6][b[1] as usize]
            ^ t[5][b[2] as usize]
            ^ t[4][b[3] as usize]
            ^ t[3][b[4] as usize]
            ^ t[2][b[5] as usize]
            ^ t[1][b[6] as usize]
            ^ t[0][b[7] as usize];
    }
    for &byte in chunks.remainder() {
        crc = t[0][((crc ^ byte as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::crc64;

    /// Byte at a time from the bit definition, to check the tables.
    fn bitwise(mut crc: u64, data: &[u8]) -> u64 {
        for &b in data {
            crc ^= b as u64;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ super::POLY
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn redis_vectors() {
        // Redis's crc64 self-test (src/crc64.c).
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        // The same test's Lorem ipsum, with the C string's terminating NUL
        // (it passes sizeof(li)).
        let li = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed \
do eiusmod tempor incididunt ut labore et dolore magna \
aliqua. Ut enim ad minim veniam, quis nostrud exercitation \
ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis \
aute irure dolor in reprehenderit in voluptate velit esse \
cillum dolore eu fugiat nulla pariatur. Excepteur sint \
occaecat cupidatat non proident, sunt in culpa qui officia \
deserunt mollit anim id est laborum.\0";
        assert_eq!(crc64(0, li), 0xc779_4709_e696_83b3);
    }

    #[test]
    fn empty_is_identity() {
        assert_eq!(crc64(0, b""), 0);
        assert_eq!(crc64(0x1234, b""), 0x1234);
    }

    #[test]
    fn matches_bitwise_and_crate_at_every_length_and_split() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in 0..data.len() {
            let want = bitwise(0, &data[..n]);
            assert_eq!(crc64(0, &data[..n]), want, "len {n}");
            assert_eq!(::crc64::crc64(0, &data[..n]), want, "crate len {n}");
            let cut = n / 3;
            assert_eq!(
                crc64(crc64(0, &data[..cut]), &data[cut..n]),
                want,
                "split {n}"
            );
        }
    }
}
