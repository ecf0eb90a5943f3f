//! The Redis wire protocol (RESP2 and RESP3), as pure code without I/O.
//!
//! * [`decode`]: client requests into argument vectors
//!   ([`RequestDecoder`]), both multibulk and inline, with Redis 7.0's
//!   exact error texts.
//! * [`encode`]: replies appended to an output buffer ([`Out`]), encoded
//!   for the connection's protocol version, plus Redis's double formatting
//!   ([`format_double`], [`format_double_human`]).
//! * [`reply`]: replies parsed back into [`Frame`]s, for the in-process API,
//!   the command-line client and tests.
//!
//! # Limits
//!
//! Everything a client declares is checked before it is trusted, as Redis
//! does in `processMultibulkBuffer` / `processInlineBuffer`:
//!
//! * an inline request, or a `*<count>` / `$<len>` line, may be at most
//!   64 KB ([`decode::INLINE_MAX_SIZE`]) before its line terminator arrives;
//!   beyond that the connection gets "too big inline request" / "too big
//!   mbulk count string" / "too big bulk count string";
//! * a bulk may be at most [`Limits::proto_max_bulk_len`] bytes
//!   (`proto-max-bulk-len`, 512 MB by default), a request at most
//!   [`Limits::max_multibulk_len`] arguments ("invalid bulk length" /
//!   "invalid multibulk length");
//! * before authentication, when a password is required, a request may have
//!   at most 10 arguments and each bulk at most 16 KB ("unauthenticated
//!   multibulk length" / "unauthenticated bulk length"), so that
//!   unauthenticated clients cannot make the server buffer large requests;
//! * no allocation is sized from an unchecked client number: argument
//!   vectors start at most 1024 entries long and grow with the arguments
//!   that really arrive; a bulk's buffer space is only reserved by the
//!   caller, guided by [`RequestDecoder::bytes_hint`], after its length
//!   passed the checks above.
//!
//! Every decode error is fatal for the connection: the server replies
//! `-ERR <error text>` and closes it.
//!
//! Request arguments are zero-copy [`bytes::Bytes`] slices of the read
//! buffer. Command code that keeps an argument beyond the command (a stored
//! value, a key) should copy it, or a few bytes would pin the whole read
//! buffer in memory.

pub mod decode;
pub mod encode;
pub mod reply;

pub use decode::{Limits, ProtocolError, RequestDecoder};
pub use encode::{format_double, format_double_g17, format_double_human, Deferred, Out, Proto};
pub use reply::{parse_frame, Frame};
