//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO. The bit arithmetic lives in `keyspace::bits`; writing a bit
//! turns a string into the growable `raw` encoding, as Redis does.

use bytes::Bytes;
use std::borrow::Cow;

use super::{arg_i64, is, lookup_read, lookup_write, modified, notify};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::bits::{self, BitOp, FieldType, Overflow, Unit};
use crate::keyspace::value::StrRef;
use crate::keyspace::{Kind, Value};
use crate::server::client::{Client, ClientKind};
use crate::server::Engine;
use crate::util::num;

/// Parses a bit offset as Redis's getBitOffsetFromArgument. With `field`
/// (BITFIELD), `#n` means n times the field width. Offsets whose byte would
/// reach proto-max-bulk-len are refused, except from our primary.
fn arg_bit_offset(e: &Engine, c: &mut Client, a: &[u8], field: Option<FieldType>) -> Option<u64> {
    let n = match (a.split_first(), field) {
        (Some((b'#', digits)), Some(ty)) => {
            num::string2ll(digits).and_then(|n| n.checked_mul(ty.bits as i64))
        }
        _ => num::string2ll(a),
    };
    let limit = e.config.proto_max_bulk_len;
    match n {
        Some(n) if n >= 0 && (c.kind == ClientKind::Primary || ((n as u64) >> 3) < limit) => {
            Some(n as u64)
        }
        _ => {
            c.reply().error(errors::BIT_OFFSET);
            None
        }
    }
}

/// Parses BITCOUNT / BITPOS's unit keyword.
fn arg_unit(c: &mut Client, a: &[u8]) -> Option<Unit> {
    if is(a, "bit") {
        Some(Unit::Bit)
    } else if is(a, "byte") {
        Some(Unit::Byte)
    } else {
        c.reply().error(errors::SYNTAX);
        None
    }
}

/// Redis's lookupStringForBitCommand: the string at `key`, created or
/// zero-padded so that bit `maxbit` exists, in `raw` form. Also returns
/// whether it was created or grown. None after a WRONGTYPE reply.
fn string_for_bits<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
    maxbit: u64,
) -> Option<(&'a mut Vec<u8>, bool)> {
    let dbi = c.db;
    let need = (maxbit >> 3) as usize + 1;
    let created = match lookup_write(e, dbi, key) {
        None => {
            e.ks.dbs[dbi].set(key, Value::Raw(Box::new(vec![0; need])), false);
            true
        }
        Some(entry) if entry.value.kind() != Kind::String => {
            c.reply().error(errors::WRONGTYPE);
            return None;
        }
        Some(_) => false,
    };
    let entry = lookup_write(e, dbi, key).expect("present: found or just added");
    let buf = entry.value.make_raw().expect("checked to be a string");
    let grown = buf.len() < need;
    if grown {
        buf.resize(need, 0);
    }
    Some((buf, created || grown))
}

/// A string's bytes, borrowed when stored as bytes.
fn str_bytes(v: &Value) -> Option<Cow<'_, [u8]>> {
    Some(match v.str_ref()? {
        StrRef::Bytes(b) => Cow::Borrowed(b),
        StrRef::Int(mut buf, n) => Cow::Owned(buf.format(n).as_bytes().to_vec()),
    })
}

/// SETBIT key offset value
fn setbit(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(offset) = arg_bit_offset(e, c, &args[2], None) else {
        return;
    };
    let on = match num::string2ll(&args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => {
            c.reply().error(errors::BIT_VALUE);
            return;
        }
    };
    let key = &args[1];
    let Some((buf, grown)) = string_for_bits(e, c, key, offset) else {
        return;
    };
    let old = bits::set_bit(buf, offset, on);
    if grown || old != on {
        let dbi = c.db;
        modified(e, c, dbi, key);
        notify(e, c, class::STRING, "setbit", dbi, key);
    }
    c.reply().int(old as i64);
}

/// GETBIT key offset
fn getbit(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(offset) = arg_bit_offset(e, c, &args[2], None) else {
        return;
    };
    let dbi = c.db;
    let bit = match lookup_read(e, dbi, &args[1]) {
        None => false,
        Some(entry) => match entry.value.str_ref() {
            Some(mut s) => s.with(|b| bits::get_bit(b, offset)),
            None => {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
        },
    };
    c.reply().int(bit as i64);
}

/// BITCOUNT key [start end [BYTE | BIT]]
fn bitcount(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    // Redis looks the key up before parsing the range: a missing key is 0
    // whatever the arguments.
    let Some(entry) = lookup_read(e, dbi, &args[1]) else {
        c.reply().int(0);
        return;
    };
    let Some(mut s) = entry.value.str_ref() else {
        c.reply().error(errors::WRONGTYPE);
        return;
    };
    let range = match args.len() {
        2 => None,
        4 | 5 => {
            let Some(start) = arg_i64(c, &args[2]) else {
                return;
            };
            let Some(end) = arg_i64(c, &args[3]) else {
                return;
            };
            if start < 0 && end < 0 && start > end {
                c.reply().int(0);
                return;
            }
            let unit = match args.get(4) {
                Some(a) => match arg_unit(c, a) {
                    Some(u) => u,
                    None => return,
                },
                None => Unit::Byte,
            };
            Some((start, end, unit))
        }
        _ => {
            c.reply().error(errors::SYNTAX);
            return;
        }
    };
    let n = s.with(|b| match range {
        None => bits::popcount(b),
        Some((start, end, unit)) => match bits::resolve_range(b.len(), start, Some(end), unit) {
            Some((first, last)) => bits::count_range(b, first, last),
            None => 0,
        },
    });
    c.reply().int(n as i64);
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
fn bitpos(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(bit) = arg_i64(c, &args[2]) else {
        return;
    };
    if bit != 0 && bit != 1 {
        c.reply().error(errors::BIT_ARG);
        return;
    }
    let bit = bit == 1;
    let dbi = c.db;
    // A missing key is an endless run of zeros.
    let Some(entry) = lookup_read(e, dbi, &args[1]) else {
        c.reply().int(if bit { -1 } else { 0 });
        return;
    };
    let Some(mut s) = entry.value.str_ref() else {
        c.reply().error(errors::WRONGTYPE);
        return;
    };
    if args.len() > 6 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let mut start = 0;
    let mut end = None;
    let mut unit = Unit::Byte;
    if args.len() >= 4 {
        let Some(n) = arg_i64(c, &args[3]) else {
            return;
        };
        start = n;
        if args.len() == 6 {
            let Some(u) = arg_unit(c, &args[5]) else {
                return;
            };
            unit = u;
        }
        if args.len() >= 5 {
            let Some(n) = arg_i64(c, &args[4]) else {
                return;
            };
            end = Some(n);
        }
    }
    let pos = s.with(|b| match bits::resolve_range(b.len(), start, end, unit) {
        None => -1,
        Some((first, last)) => match bits::find_bit(b, bit, first, last) {
            Some(p) => p as i64,
            // Without an explicit end, the string is taken as padded with
            // zeros on the right: the first clear bit is just past it.
            None if !bit && end.is_none() => last as i64 + 1,
            None => -1,
        },
    });
    c.reply().int(pos);
}

/// BITOP AND | OR | XOR | NOT destkey key [key ...]
fn bitop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let op = if is(&args[1], "and") {
        BitOp::And
    } else if is(&args[1], "or") {
        BitOp::Or
    } else if is(&args[1], "xor") {
        BitOp::Xor
    } else if is(&args[1], "not") {
        BitOp::Not
    } else {
        c.reply().error(errors::SYNTAX);
        return;
    };
    if op == BitOp::Not && args.len() != 4 {
        c.reply().error(errors::BITOP_NOT_ONE_KEY);
        return;
    }
    let dbi = c.db;
    let (dest, keys) = (&args[2], &args[3..]);
    // First pass: expiry, hit counting and type checks; the second borrows
    // the live strings without copying them.
    let mut live = Vec::with_capacity(keys.len());
    for key in keys {
        match lookup_read(e, dbi, key) {
            None => live.push(false),
            Some(entry) if entry.value.kind() != Kind::String => {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
            Some(_) => live.push(true),
        }
    }
    let result = {
        let db = &e.ks.dbs[dbi];
        let srcs: Vec<Cow<'_, [u8]>> = keys
            .iter()
            .zip(&live)
            .map(|(key, &is_live)| {
                let v = if is_live { db.get_raw(key) } else { None };
                v.and_then(|en| str_bytes(&en.value))
                    .unwrap_or(Cow::Borrowed(&[]))
            })
            .collect();
        let views: Vec<&[u8]> = srcs.iter().map(|s| s.as_ref()).collect();
        bits::bitop(op, &views)
    };
    let len = result.len();
    if len > 0 {
        e.ks.dbs[dbi].set(dest, Value::Raw(Box::new(result)), false);
        modified(e, c, dbi, dest);
        notify(e, c, class::STRING, "set", dbi, dest);
    } else if lookup_write(e, dbi, dest).is_some() {
        e.ks.dbs[dbi].remove(dest);
        modified(e, c, dbi, dest);
        notify(e, c, class::GENERIC, "del", dbi, dest);
    }
    c.reply().int(len as i64);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

struct Field {
    op: FieldOp,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL]
/// SET encoding offset value | INCRBY encoding offset increment ...]
fn bitfield(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    bitfield_generic(e, c, args, Access::ReadWrite);
}

/// BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]
fn bitfield_ro(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    bitfield_generic(e, c, args, Access::ReadOnly);
}

/// Parses every subcommand first (any error aborts before touching the
/// key), then runs them in order against one string.
fn bitfield_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], access: Access) {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    // Highest bit any SET / INCRBY touches; None when all are GETs.
    let mut maxbit: Option<u64> = None;
    let mut j = 2;
    while j < args.len() {
        let sub = &args[j][..];
        let remaining = args.len() - j - 1;
        let op = if is(sub, "get") && remaining >= 2 {
            FieldOp::Get
        } else if is(sub, "set") && remaining >= 3 {
            FieldOp::Set(0)
        } else if is(sub, "incrby") && remaining >= 3 {
            FieldOp::IncrBy(0)
        } else if is(sub, "overflow") && remaining >= 1 {
            let name = &args[j + 1];
            overflow = if is(name, "wrap") {
                Overflow::Wrap
            } else if is(name, "sat") {
                Overflow::Sat
            } else if is(name, "fail") {
                Overflow::Fail
            } else {
                c.reply().error(errors::BITFIELD_OVERFLOW);
                return;
            };
            j += 2;
            continue;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        };
        let Some(ty) = FieldType::parse(&args[j + 1]) else {
            c.reply().error(errors::BITFIELD_TYPE);
            return;
        };
        let Some(offset) = arg_bit_offset(e, c, &args[j + 2], Some(ty)) else {
            return;
        };
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            write => {
                let last = offset + ty.bits as u64 - 1;
                maxbit = Some(maxbit.map_or(last, |m| m.max(last)));
                let Some(n) = arg_i64(c, &args[j + 3]) else {
                    return;
                };
                if matches!(write, FieldOp::Set(_)) {
                    FieldOp::Set(n)
                } else {
                    FieldOp::IncrBy(n)
                }
            }
        };
        fields.push(Field {
            op,
            ty,
            offset,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }

    let key = &args[1];
    let Some(maxbit) = maxbit else {
        bitfield_read(e, c, key, &fields);
        return;
    };
    if access == Access::ReadOnly {
        c.reply().error(errors::BITFIELD_RO_GET_ONLY);
        return;
    }
    let Some((buf, grown)) = string_for_bits(e, c, key, maxbit) else {
        return;
    };
    let mut changes = 0u64;
    let mut out = c.reply();
    out.array(fields.len());
    for fd in &fields {
        let (off, width, ow) = (fd.offset, fd.ty.bits, fd.overflow);
        let (old, new) = match (fd.op, fd.ty.signed) {
            (FieldOp::Get, true) => {
                out.int(bits::get_field_signed(buf, off, width));
                continue;
            }
            (FieldOp::Get, false) => {
                out.int(bits::get_field(buf, off, width) as i64);
                continue;
            }
            (FieldOp::Set(v), true) => {
                let old = bits::get_field_signed(buf, off, width);
                (old, bits::add_signed(v, 0, width, ow).map(|n| (old, n)))
            }
            (FieldOp::IncrBy(by), true) => {
                let old = bits::get_field_signed(buf, off, width);
                (old, bits::add_signed(old, by, width, ow).map(|n| (n, n)))
            }
            // Unsigned fields are at most 63 bits: they fit an i64 both ways.
            (FieldOp::Set(v), false) => {
                let old = bits::get_field(buf, off, width) as i64;
                (
                    old,
                    bits::add_unsigned(v as u64, 0, width, ow).map(|n| (old, n as i64)),
                )
            }
            (FieldOp::IncrBy(by), false) => {
                let old = bits::get_field(buf, off, width);
                let new = bits::add_unsigned(old, by, width, ow).map(|n| (n as i64, n as i64));
                (old as i64, new)
            }
        };
        match new {
            // OVERFLOW FAIL: the field is left alone and the reply is nil.
            None => out.null(),
            Some((reply, new)) => {
                out.int(reply);
                bits::set_field(buf, off, width, new as u64);
                if grown || old != new {
                    changes += 1;
                }
            }
        }
    }
    if changes > 0 {
        let dbi = c.db;
        // Redis counts one change per field written.
        e.dirty += changes - 1;
        modified(e, c, dbi, key);
        notify(e, c, class::STRING, "setbit", dbi, key);
    }
}

/// BITFIELD with only GETs: a read, and a missing key reads as zeros.
fn bitfield_read(e: &mut Engine, c: &mut Client, key: &[u8], fields: &[Field]) {
    let dbi = c.db;
    let value = match lookup_read(e, dbi, key) {
        None => None,
        Some(entry) if entry.value.kind() != Kind::String => {
            c.reply().error(errors::WRONGTYPE);
            return;
        }
        Some(entry) => str_bytes(&entry.value),
    };
    let buf: &[u8] = value.as_deref().unwrap_or(&[]);
    let mut out = c.reply();
    out.array(fields.len());
    for fd in fields {
        if fd.ty.signed {
            out.int(bits::get_field_signed(buf, fd.offset, fd.ty.bits));
        } else {
            out.int(bits::get_field(buf, fd.offset, fd.ty.bits) as i64);
        }
    }
}

const R: u64 = acl::READ | acl::BITMAP;
const W: u64 = acl::WRITE | acl::BITMAP;

// One row per command, as the other families' tables: rustfmt would spread
// each row over a dozen lines.
#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, f::WRITE | f::DENYOOM, W | acl::SLOW, Keys::ONE, setbit).group("bitmap").since("2.2.0").summary("Sets or clears the bit at offset in the string value stored at key"),
    CommandSpec::new("getbit", 3, f::READONLY | f::FAST, R | acl::FAST, Keys::ONE, getbit).group("bitmap").since("2.2.0").summary("Returns the bit value at offset in the string value stored at key"),
    CommandSpec::new("bitcount", -2, f::READONLY, R | acl::SLOW, Keys::ONE, bitcount).group("bitmap").since("2.6.0").summary("Count set bits in a string"),
    CommandSpec::new("bitpos", -3, f::READONLY, R | acl::SLOW, Keys::ONE, bitpos).group("bitmap").since("2.8.7").summary("Find first bit set or clear in a string"),
    CommandSpec::new("bitop", -4, f::WRITE | f::DENYOOM, W | acl::SLOW, Keys { first: 2, last: -1, step: 1 }, bitop).group("bitmap").since("2.6.0").summary("Perform bitwise operations between strings"),
    CommandSpec::new("bitfield", -2, f::WRITE | f::DENYOOM, W | acl::SLOW, Keys::ONE, bitfield).group("bitmap").since("3.2.0").summary("Perform arbitrary bitfield integer operations on strings"),
    CommandSpec::new("bitfield_ro", -2, f::READONLY | f::FAST, R | acl::FAST, Keys::ONE, bitfield_ro).group("bitmap").since("6.0.0").summary("Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD"),
];
