//! Lua scripting as Redis 7.0 has it (EVAL, EVALSHA, SCRIPT): the Lua 5.1
//! interpreter, the script cache, the `redis.*` API and the conversions
//! between Redis replies and Lua values.
//!
//! # Overview
//!
//! One interpreter lives in the engine ([`Scripting`], made on first use).
//! A script runs on the engine thread like any command; `redis.call` runs
//! the command through [`dispatch::call`] on a script client that borrows
//! the caller's id, database and tracking state for the duration of the
//! script, then parses that client's output back into Lua values, as Redis
//! does with its `lua_client`.
//!
//! Errors never cross the Rust/Lua boundary as Rust errors: the Rust
//! callbacks return `(is_error, value)` and small Lua wrappers raise the
//! error tables Redis scripts expect (`{err = "..."}`), so `pcall` and the
//! error handler see exactly what they see in Redis.
//!
//! Writes a script makes are propagated one by one (wrapped in MULTI/EXEC
//! when there are several), never the EVAL itself: Redis 7.0's effects
//! replication. Scripts are not saved in RDB files.
//!
//! Differences from Redis: there is no script debugger (`redis.breakpoint`
//! answers false, `redis.debug` does nothing); globals are protected with a
//! metatable on the global table rather than Redis's patched read-only
//! tables, so the `redis` table and the libraries can still be changed by a
//! script; the cmsgpack and struct libraries are not available (`bit` is,
//! and `cjson` is a Lua implementation of lua-cjson's behaviour).

use std::cell::Cell;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::time::Instant;

use bytes::Bytes;
use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::dispatch::{self, errors, flags as f};
use crate::protocol::encode::{format_double, Out, Proto};
use crate::protocol::reply::{parse_frame, Frame};
use crate::server::client::Client;
use crate::server::Engine;

/// Script flags (the `#!lua flags=...` shebang).
pub const NO_WRITES: u32 = 1 << 0;
pub const ALLOW_OOM: u32 = 1 << 1;
pub const ALLOW_STALE: u32 = 1 << 2;
pub const NO_CLUSTER: u32 = 1 << 3;
pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
/// A script without a shebang: Redis's backwards-compatible mode.
pub const EVAL_COMPAT: u32 = 1 << 5;

const FLAG_NAMES: &[(&str, u32)] = &[
    ("no-writes", NO_WRITES),
    ("allow-oom", ALLOW_OOM),
    ("allow-stale", ALLOW_STALE),
    ("no-cluster", NO_CLUSTER),
    ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
];

pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";

/// Redis 7.0.15 as `REDIS_VERSION_NUM` (0x00MMmmpp).
const VERSION_NUM: f64 = ((7 << 16) | 15) as f64;

/// A cached script.
pub struct Script {
    /// The source, kept for SCRIPT memory accounting and future use.
    #[allow(dead_code)]
    pub body: Bytes,
    pub flags: u32,
    func: Function,
}

/// The state of the running script.
struct Run {
    read_only: bool,
    allow_oom: bool,
    /// The script already wrote: later checks cannot fail it half-way.
    write_dirty: bool,
    /// OOM was detected before the script started.
    pre_oom: bool,
    /// `redis.set_repl`: propagate the script's writes.
    replicate: bool,
    /// The EVAL's row and arguments: its declared keys are what client
    /// side caching remembers when the script reads.
    eval_idx: usize,
    eval_args: Vec<Bytes>,
}

/// The interpreter and the script cache.
pub struct Scripting {
    lua: Lua,
    /// Resumes the script's coroutine: `(ok, values...)`.
    resume: Function,
    /// The error table of a failed coroutine, with its position.
    errpos: Function,
    /// The running script's coroutine, its SHA1 and its caller.
    co: Option<mlua::Thread>,
    sha: String,
    caller: u64,
    pub scripts: HashMap<String, Script>,
    /// Bytes of the cached bodies and their SHA1s (used_memory_scripts_eval).
    pub scripts_mem: usize,
    client: Option<Box<Client>>,
    run: Option<Run>,
    gc_count: u32,
}

thread_local! {
    /// The engine and the calling client while a script runs: what the
    /// `redis.*` callbacks act on.
    static CTX: Cell<Option<(NonNull<Engine>, NonNull<Client>)>> = const { Cell::new(None) };
    /// The error table of the `redis.call` that just failed.
    static PENDING_ERR: std::cell::RefCell<Option<Table>> = const { std::cell::RefCell::new(None) };
}

/// What the count hook knows of the running script.
struct HookState {
    start: Instant,
    threshold_ms: u64,
    killed: bool,
    timed_out: bool,
    /// The hook suspended the script (as opposed to a yield of its own).
    yielded: bool,
    /// The script's coroutine: only it is suspended, never a coroutine
    /// the script made.
    main: *mut mlua::ffi::lua_State,
    /// The coroutines `pcall` runs functions in: suspended with the script.
    own: Vec<*mut mlua::ffi::lua_State>,
    can_yield: bool,
}

thread_local! {
    static HOOK: std::cell::RefCell<Option<HookState>> = const { std::cell::RefCell::new(None) };
}

/// True when `l` runs only Lua functions: a yield from the hook cannot
/// cross pcall, a metamethod or any other C function.
///
/// # Safety
/// `l` is a live lua_State (the hook's argument).
unsafe fn yieldable(l: *mut mlua::ffi::lua_State) -> bool {
    // SAFETY: lua_Debug is plain data that lua_getstack fills in.
    let mut ar: mlua::ffi::lua_Debug = unsafe { std::mem::zeroed() };
    let mut level = 0;
    // SAFETY: `l` is live; `ar` outlives the calls.
    while unsafe { mlua::ffi::lua_getstack(l, level, &mut ar) } != 0 {
        // SAFETY: as above; "S" only fills source fields.
        unsafe { mlua::ffi::lua_getinfo(l, c"S".as_ptr(), &mut ar) };
        // SAFETY: `what` points to a static string of Lua's when set.
        if !ar.what.is_null() && unsafe { *ar.what } == b'C' as std::os::raw::c_char {
            return false;
        }
        level += 1;
        if level > 256 {
            return false;
        }
    }
    true
}

/// The count hook (every 100000 instructions, as Redis): after
/// busy-reply-threshold it suspends the script so that the engine serves
/// other clients (who get -BUSY), and it raises the SCRIPT KILL error.
unsafe extern "C-unwind" fn busy_hook(
    l: *mut mlua::ffi::lua_State,
    _ar: *mut mlua::ffi::lua_Debug,
) {
    enum Act {
        Continue,
        Kill,
        Yield,
    }
    let act = HOOK.with(|h| {
        let mut h = h.borrow_mut();
        let Some(st) = h.as_mut() else {
            return Act::Continue;
        };
        if st.killed {
            return Act::Kill;
        }
        if !st.timed_out {
            if (st.start.elapsed().as_millis() as u64) < st.threshold_ms {
                return Act::Continue;
            }
            st.timed_out = true;
        }
        // SAFETY: `l` is the hook's live state.
        let ours = l == st.main || st.own.contains(&l);
        if st.can_yield && ours && unsafe { yieldable(l) } {
            st.yielded = true;
            return Act::Yield;
        }
        Act::Continue
    });
    match act {
        Act::Continue => {}
        Act::Kill => {
            tracing::warn!("Lua script killed by user with SCRIPT KILL.");
            // SAFETY: `l` is live. The hook now fires on every line so that
            // pcall cannot hold the error back for long; lua_error does not
            // return, and no Rust value with a destructor is alive here.
            unsafe {
                mlua::ffi::lua_sethook(l, Some(busy_hook), mlua::ffi::LUA_MASKLINE, 0);
                mlua::ffi::lua_pushstring(l, c"Script killed by user with SCRIPT KILL...".as_ptr());
                mlua::ffi::lua_error(l);
            }
        }
        Act::Yield => {
            // SAFETY: count hooks may yield in Lua 5.1 when no C call is
            // on the coroutine's stack (checked by `yieldable`).
            unsafe {
                mlua::ffi::lua_yield(l, 0);
            }
        }
    }
}

/// The Lua side of the API: wrappers that raise Redis's error tables, the
/// error handler, `pcall` returning error messages, global protection.
const PRELUDE: &str = r#"
local raw_call, call, take_err, own, hook_yielded, killed, iscfunction, err_table, sha1hex, log, setresp, set_repl, version, version_num, deprecated_api = ...
local dbg = debug
local type, tostring, error, select, rawpcall = type, tostring, error, select, pcall

-- Runs the script's coroutine until it ends, fails, or the busy hook
-- suspends it.
local function resume(co)
  return coroutine.resume(co)
end

-- The error table of a failed script, with the position in the user's
-- script (Redis's error handler, reading the dead coroutine's stack).
local function errpos(co, err)
  if type(err) == 'userdata' then
    local t = take_err()
    if t then err = t end
  end
  local lvl = 0
  local i = dbg.getinfo(co, lvl, 'nSl')
  while i and (i.what == 'C' or i.source == '=redis') and lvl < 8 do
    lvl = lvl + 1
    i = dbg.getinfo(co, lvl, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i and i.what ~= 'C' and i.source ~= '=redis' then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

local function raise(msg)
  error(err_table(msg))
end

local redis = {}
redis.call = call
redis.pcall = function(...)
  local is_err, v = raw_call(false, ...)
  return v
end
redis.sha1hex = function(...)
  if select('#', ...) ~= 1 then raise('wrong number of arguments') end
  return sha1hex((...))
end
redis.error_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then
    return err_table('wrong number or type of arguments')
  end
  local e = ...
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return err_table(e)
end
redis.status_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then
    return err_table('wrong number or type of arguments')
  end
  return {ok = (...)}
end
redis.log = function(...)
  local n = select('#', ...)
  if n < 2 then raise('redis.log() requires two arguments or more.') end
  local level = ...
  if type(level) ~= 'number' and (type(level) ~= 'string' or tonumber(level) == nil) then
    raise('First argument must be a number (log level).')
  end
  level = tonumber(level)
  if level < 0 or level > 3 then raise('Invalid debug level.') end
  log(level, select(2, ...))
end
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.setresp = function(...)
  if select('#', ...) ~= 1 then raise('redis.setresp() requires one argument.') end
  local r = tonumber((...))
  if r ~= 2 and r ~= 3 then raise('RESP version must be 2 or 3.') end
  setresp(r)
end
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then raise('redis.set_repl() requires two arguments.') end
  local fl = tonumber((...)) or 0
  if not set_repl(fl) then
    raise('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
end
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = function(...)
  if select('#', ...) == 0 then raise('Please specify at least one argument for this redis lib call') end
  local is_err, v = raw_call(nil, ...)
  if is_err then error(v) end
  return v
end
redis.REDIS_VERSION = version
redis.REDIS_VERSION_NUM = version_num
_G.redis = redis

local function fix(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'userdata' then
    local t = take_err()
    if t then e = t end
  end
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
local co_create, co_resume, co_status, co_yield = coroutine.create, coroutine.resume, coroutine.status, coroutine.yield
local function pack(...) return {n = select('#', ...), ...} end
-- Redis's pcall returns the message of an error table. A Lua function
-- runs in a coroutine of its own, so that the busy hook can suspend the
-- script inside pcall too.
pcall = function(f, ...)
  if type(f) ~= 'function' or iscfunction(f) then
    return fix(rawpcall(f, ...))
  end
  local co = co_create(f)
  own(co, true)
  local r = pack(co_resume(co, ...))
  if killed() then error('Script killed by user with SCRIPT KILL...', 0) end
  while r[1] and co_status(co) == 'suspended' do
    if not hook_yielded() then
      own(co, false)
      return false, 'attempt to yield across metamethod/C-call boundary'
    end
    co_yield()
    r = pack(co_resume(co))
    if killed() then error('Script killed by user with SCRIPT KILL...', 0) end
  end
  own(co, false)
  return fix(unpack(r, 1, r.n))
end

-- unpack with a range too big for the stack fails cleanly (Lua 5.1.5's
-- own check overflows).
local rawunpack, tonumber = unpack, tonumber
unpack = function(...)
  local t, i, j = ...
  if type(t) == 'table' then
    local a = tonumber(i) or 1
    local b = tonumber(j) or #t
    if a <= b and b - a >= 8000 then
      error('too many results to unpack', 0)
    end
  end
  return rawunpack(...)
end

-- cjson (Redis bundles lua-cjson 2.1): encode, decode and its settings.
local cjson = {}
local json_null = newproxy(false)
cjson.null = json_null
local jcfg = {enc_depth = 1000, dec_depth = 1000, invalid = false}
local sfmt, sbyte, schar, ssub, floor, huge = string.format, string.byte, string.char, string.sub, math.floor, math.huge
local jescapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b',
  ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
local function jstring(s)
  return '"' .. s:gsub('[%c"\\/]', function(c)
    return jescapes[c] or sfmt('\\u%04x', sbyte(c))
  end) .. '"'
end
local function jnumber(n)
  if n ~= n or n == huge or n == -huge then
    if not jcfg.invalid then
      error('Cannot serialise number: must not be NaN or Inf', 0)
    end
    if n ~= n then return 'nan' end
    return n > 0 and 'inf' or '-inf'
  end
  return sfmt('%.14g', n)
end
local jencode
local function jtable(t, depth)
  depth = depth + 1
  if depth > jcfg.enc_depth then
    error('Cannot serialise, excessive nesting (' .. depth .. ')', 0)
  end
  local max, items, array = 0, 0, true
  for k in pairs(t) do
    if type(k) == 'number' and k > 0 and floor(k) == k then
      if k > max then max = k end
      items = items + 1
    else
      array = false
      break
    end
  end
  local parts = {}
  if array and max > 0 then
    if max > items * 2 and max > 10 then
      error('Cannot serialise table: excessively sparse array', 0)
    end
    for i = 1, max do
      local v = t[i]
      if v == nil then v = json_null end
      parts[i] = jencode(v, depth)
    end
    return '[' .. table.concat(parts, ',') .. ']'
  end
  for k, v in pairs(t) do
    local kt, ks = type(k)
    if kt == 'string' then
      ks = jstring(k)
    elseif kt == 'number' then
      ks = '"' .. jnumber(k) .. '"'
    else
      error('Cannot serialise table: table key must be a number or string', 0)
    end
    parts[#parts + 1] = ks .. ':' .. jencode(v, depth)
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
jencode = function(v, depth)
  local t = type(v)
  if t == 'string' then return jstring(v)
  elseif t == 'number' then return jnumber(v)
  elseif t == 'boolean' then return v and 'true' or 'false'
  elseif t == 'nil' or v == json_null then return 'null'
  elseif t == 'table' then return jtable(v, depth)
  end
  error('Cannot serialise ' .. t .. ': type not supported', 0)
end
cjson.encode = function(...)
  if select('#', ...) ~= 1 then error('bad argument #1 to \'encode\' (expected 1 argument)', 0) end
  return jencode((...), 0)
end
local function utf8(cp)
  if cp < 0x80 then return schar(cp)
  elseif cp < 0x800 then return schar(0xC0 + floor(cp / 64), 0x80 + cp % 64)
  elseif cp < 0x10000 then
    return schar(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return schar(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64,
    0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end
cjson.decode = function(str)
  if type(str) ~= 'string' then
    error("bad argument #1 to 'decode' (string expected, got " .. type(str) .. ')', 0)
  end
  local pos, depth = 1, 0
  local function fail(what)
    error('Expected ' .. what .. ' but found invalid token at character ' .. pos, 0)
  end
  local function ws()
    pos = str:find('[^ \t\r\n]', pos) or #str + 1
  end
  local value
  local function jstr()
    local out = {}
    pos = pos + 1
    while true do
      local c = ssub(str, pos, pos)
      if c == '' then fail('string') end
      if c == '"' then pos = pos + 1 break end
      if c == '\\' then
        local e = ssub(str, pos + 1, pos + 1)
        local map = {b = '\b', f = '\f', n = '\n', r = '\r', t = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/'}
        if map[e] then
          out[#out + 1] = map[e]
          pos = pos + 2
        elseif e == 'u' then
          local cp = tonumber(ssub(str, pos + 2, pos + 5), 16)
          if not cp then fail('string') end
          pos = pos + 6
          if cp >= 0xD800 and cp < 0xDC00 and ssub(str, pos, pos + 1) == '\\u' then
            local lo = tonumber(ssub(str, pos + 2, pos + 5), 16)
            if lo and lo >= 0xDC00 and lo < 0xE000 then
              cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
              pos = pos + 6
            end
          end
          out[#out + 1] = utf8(cp)
        else
          fail('string')
        end
      else
        local stop = str:find('["\\]', pos) or #str + 1
        out[#out + 1] = ssub(str, pos, stop - 1)
        pos = stop
      end
    end
    return table.concat(out)
  end
  local function nest()
    depth = depth + 1
    if depth > jcfg.dec_depth then
      error('Found too many nested data structures (' .. depth .. ') at character ' .. pos, 0)
    end
  end
  value = function()
    ws()
    local c = ssub(str, pos, pos)
    if c == '{' then
      nest()
      local t = {}
      pos = pos + 1
      ws()
      if ssub(str, pos, pos) == '}' then pos = pos + 1 depth = depth - 1 return t end
      while true do
        ws()
        if ssub(str, pos, pos) ~= '"' then fail('object key string') end
        local k = jstr()
        ws()
        if ssub(str, pos, pos) ~= ':' then fail('colon') end
        pos = pos + 1
        t[k] = value()
        ws()
        local d = ssub(str, pos, pos)
        pos = pos + 1
        if d == '}' then break end
        if d ~= ',' then pos = pos - 1 fail('comma or object end') end
      end
      depth = depth - 1
      return t
    elseif c == '[' then
      nest()
      local t, n = {}, 0
      pos = pos + 1
      ws()
      if ssub(str, pos, pos) == ']' then pos = pos + 1 depth = depth - 1 return t end
      while true do
        n = n + 1
        t[n] = value()
        ws()
        local d = ssub(str, pos, pos)
        pos = pos + 1
        if d == ']' then break end
        if d ~= ',' then pos = pos - 1 fail('comma or array end') end
      end
      depth = depth - 1
      return t
    elseif c == '"' then
      return jstr()
    elseif ssub(str, pos, pos + 3) == 'true' then pos = pos + 4 return true
    elseif ssub(str, pos, pos + 4) == 'false' then pos = pos + 5 return false
    elseif ssub(str, pos, pos + 3) == 'null' then pos = pos + 4 return json_null
    end
    local num = str:match('^-?%d+%.?%d*[eE]?[-+]?%d*', pos)
    local n = num and tonumber(num)
    if not n then fail('value') end
    pos = pos + #num
    return n
  end
  local v = value()
  ws()
  if pos <= #str then fail('the end') end
  return v
end
cjson.encode_max_depth = function(n) jcfg.enc_depth = tonumber(n) or jcfg.enc_depth return jcfg.enc_depth end
cjson.decode_max_depth = function(n) jcfg.dec_depth = tonumber(n) or jcfg.dec_depth return jcfg.dec_depth end
cjson.encode_invalid_numbers = function(v) if v ~= nil then jcfg.invalid = v and v ~= 'off' end return jcfg.invalid end
cjson.decode_invalid_numbers = function() return true end
cjson.encode_keep_buffer = function() return true end
cjson.encode_number_precision = function() return 14 end
cjson.encode_sparse_array = function() return false, 2, 10 end
cjson.decode_array_with_array_mt = function() return false end
cjson._NAME = 'cjson'
cjson._VERSION = '2.1.0'
_G.cjson = cjson

-- Removed for sandboxing (Redis's deny list and deprecated functions).
loadfile = nil
dofile = nil
print = nil
if not deprecated_api then
  setfenv = nil
  getfenv = nil
  newproxy = nil
end
debug = nil

-- No precompiled chunks: loadstring of bytecode gives nil, as Redis's Lua.
local rawloadstring = loadstring
loadstring = function(s, ...)
  if type(s) == 'string' and ssub(s, 1, 1) == '\27' then
    return nil, 'binary chunks are not allowed'
  end
  return rawloadstring(s, ...)
end

local G = _G
setmetatable(G, {
  __index = function(t, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 0)
  end,
  __newindex = function(t, k, v)
    error("Attempt to modify a readonly table", 2)
  end,
  __metatable = false,
})
return resume, errpos
"#;

impl Scripting {
    fn new(deprecated_api: bool) -> mlua::Result<Scripting> {
        use mlua::{LuaOptions, StdLib};
        // SAFETY: the debug library is loaded only for the error handler
        // (it captures it) and removed from the globals before any script
        // runs; nothing else unsafe is loaded.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::default(),
            )
        };
        let raw_call = lua.create_function(|lua, args: MultiValue| Ok(raw_call(lua, args)))?;
        let call = lua.create_function(redis_call)?;
        let take_err = lua.create_function(|_, ()| Ok(take_pending_err()))?;
        let own = lua.create_function(|_, (co, on): (mlua::Thread, bool)| {
            let p = co.to_pointer() as *mut mlua::ffi::lua_State;
            HOOK.with(|h| {
                if let Some(st) = h.borrow_mut().as_mut() {
                    if on {
                        st.own.push(p);
                    } else {
                        st.own.retain(|&x| x != p);
                    }
                }
            });
            Ok(())
        })?;
        let hook_yielded = lua.create_function(|_, ()| {
            Ok(HOOK.with(|h| h.borrow().as_ref().is_some_and(|st| st.yielded)))
        })?;
        let killed = lua.create_function(|_, ()| {
            Ok(HOOK.with(|h| h.borrow().as_ref().is_some_and(|st| st.killed)))
        })?;
        let iscfunction = lua.create_function(|_, f: Function| Ok(f.info().what == "C"))?;
        let err_table =
            lua.create_function(|lua, msg: mlua::String| err_table_from(lua, &msg.as_bytes()))?;
        let sha1hex = lua.create_function(|lua, v: Value| {
            let bytes: Vec<u8> = match &v {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Number(n) => lua_number_text(*n).into_bytes(),
                Value::Integer(n) => n.to_string().into_bytes(),
                _ => Vec::new(),
            };
            lua.create_string(sha1_hex(&bytes))
        })?;
        let log = lua.create_function(|_, (level, rest): (f64, MultiValue)| {
            let mut text = Vec::new();
            for (i, v) in rest.iter().enumerate() {
                let piece = match v {
                    Value::String(s) => s.as_bytes().to_vec(),
                    Value::Number(n) => lua_number_text(*n).into_bytes(),
                    Value::Integer(n) => n.to_string().into_bytes(),
                    _ => continue,
                };
                if i != 0 {
                    text.push(b' ');
                }
                text.extend_from_slice(&piece);
            }
            let text = String::from_utf8_lossy(&text);
            match level as i64 {
                0 => tracing::debug!("{text}"),
                1 => tracing::debug!("{text}"),
                2 => tracing::info!("{text}"),
                _ => tracing::warn!("{text}"),
            }
            Ok(())
        })?;
        let setresp = lua.create_function(|_, r: f64| {
            with_script_client(|c| {
                c.proto = if r == 3.0 { Proto::Resp3 } else { Proto::Resp2 };
            });
            Ok(())
        })?;
        let set_repl = lua.create_function(|_, fl: f64| {
            let fl = fl as i64;
            if fl & !3 != 0 {
                return Ok(false);
            }
            with_ctx(|e, _| {
                if let Some(run) = e.scripting.as_mut().and_then(|s| s.run.as_mut()) {
                    run.replicate = fl == 3;
                }
            });
            Ok(true)
        })?;
        lua.globals().raw_set("bit", bit_library(&lua)?)?;
        let prelude = lua
            .load(PRELUDE)
            .set_name("=redis")
            .set_mode(mlua::ChunkMode::Text)
            .into_function()?;
        let (resume, errpos): (Function, Function) = prelude.call((
            raw_call,
            call,
            take_err,
            own,
            hook_yielded,
            killed,
            iscfunction,
            err_table,
            sha1hex,
            log,
            setresp,
            set_repl,
            crate::persistence::rdb::REDIS_VER,
            VERSION_NUM,
            deprecated_api,
        ))?;
        Ok(Scripting {
            lua,
            resume,
            errpos,
            co: None,
            sha: String::new(),
            caller: 0,
            scripts: HashMap::new(),
            scripts_mem: 0,
            client: None,
            run: None,
            gc_count: 0,
        })
    }

    /// Bytes the interpreter uses (used_memory_lua).
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// A number as LuaBitOp reads it: rounded, then its low 32 bits.
fn bit_arg(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    let m = n.round_ties_even().rem_euclid(4_294_967_296.0);
    (m as u64 as u32) as i32
}

/// The `bit` library (LuaBitOp 1.0, as Redis bundles it).
fn bit_library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "tobit",
        lua.create_function(|_, x: f64| Ok(bit_arg(x) as f64))?,
    )?;
    t.raw_set(
        "bnot",
        lua.create_function(|_, x: f64| Ok(!bit_arg(x) as f64))?,
    )?;
    type Fold = fn(i32, i32) -> i32;
    let folds: [(&str, Fold); 3] = [
        ("band", |a, b| a & b),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ];
    for (name, op) in folds {
        t.raw_set(
            name,
            lua.create_function(move |_, (x, rest): (f64, mlua::Variadic<f64>)| {
                Ok(rest.iter().fold(bit_arg(x), |acc, &y| op(acc, bit_arg(y))) as f64)
            })?,
        )?;
    }
    type Shift = fn(i32, u32) -> i32;
    let shifts: [(&str, Shift); 5] = [
        ("lshift", |a, n| ((a as u32) << n) as i32),
        ("rshift", |a, n| ((a as u32) >> n) as i32),
        ("arshift", |a, n| a >> n),
        ("rol", |a, n| (a as u32).rotate_left(n) as i32),
        ("ror", |a, n| (a as u32).rotate_right(n) as i32),
    ];
    for (name, op) in shifts {
        t.raw_set(
            name,
            lua.create_function(move |_, (x, n): (f64, f64)| {
                Ok(op(bit_arg(x), (bit_arg(n) & 31) as u32) as f64)
            })?,
        )?;
    }
    t.raw_set(
        "bswap",
        lua.create_function(|_, x: f64| Ok((bit_arg(x) as u32).swap_bytes() as i32 as f64))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| {
            let mut n = n.map_or(8, |v| bit_arg(v) as i64);
            let upper = n < 0;
            n = n.abs().min(8);
            let v = bit_arg(x) as u32;
            let s = if upper {
                format!("{v:08X}")
            } else {
                format!("{v:08x}")
            };
            Ok(s[8 - n as usize..].to_string())
        })?,
    )?;
    Ok(t)
}

/// `sha1hex` of Redis: 40 lowercase hex digits.
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let d = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in d.iter() {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

/// A number as Redis passes it to commands: `%.17g`.
fn lua_number_text(n: f64) -> String {
    format_double(n)
}

/// Redis's luaPushErrorBuff: `-CODE msg` keeps its code, a bare message
/// gets `ERR`; a trailing CR/LF is trimmed.
fn err_table_from(lua: &Lua, msg: &[u8]) -> mlua::Result<Table> {
    let (code, text): (&[u8], &[u8]) = match msg.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", msg),
    };
    let mut end = text.len();
    while end > 0 && matches!(text[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let mut start = 0;
    while start < end && matches!(text[start], b'\r' | b'\n') {
        start += 1;
    }
    let mut full = code.to_vec();
    full.push(b' ');
    full.extend_from_slice(&text[start..end]);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&full)?)?;
    Ok(t)
}

fn with_ctx<R>(f: impl FnOnce(&mut Engine, &mut Client) -> R) -> Option<R> {
    let (e, c) = CTX.with(|x| x.get())?;
    // SAFETY: CTX holds pointers only while `run_script` runs the script
    // (it sets and clears them around the call); `run_script` does not
    // touch the engine or the client through its own references meanwhile,
    // and the engine thread is the only one running Lua.
    let (e, c) = unsafe { (&mut *e.as_ptr(), &mut *c.as_ptr()) };
    Some(f(e, c))
}

fn with_script_client(f: impl FnOnce(&mut Client)) {
    with_ctx(|e, _| {
        if let Some(c) = e.scripting.as_mut().and_then(|s| s.client.as_mut()) {
            f(c);
        }
    });
}

/// `redis.call` / `redis.pcall` (first argument true / false) and
/// `redis.acl_check_cmd` (nil): runs a command, answers (is_error, value).
fn raw_call(lua: &Lua, args: MultiValue) -> (bool, Value) {
    match raw_call_inner(lua, args) {
        Ok(v) => v,
        Err(e) => {
            let t = err_table_from(lua, e.to_string().as_bytes())
                .map(Value::Table)
                .unwrap_or(Value::Nil);
            (true, t)
        }
    }
}

/// `redis.call`: a Rust function, so that `return redis.call(...)` keeps
/// the script's frame for the error position, as Redis's C function does.
/// Its error table waits in PENDING_ERR for the error handler (or
/// `pcall`), which swaps it for the opaque error mlua raises.
fn redis_call(lua: &Lua, args: MultiValue) -> mlua::Result<Value> {
    let mut all = MultiValue::new();
    all.push_back(Value::Boolean(true));
    all.extend(args);
    let (is_err, v) = raw_call(lua, all);
    if !is_err {
        return Ok(v);
    }
    if let Value::Table(t) = v {
        PENDING_ERR.with(|p| *p.borrow_mut() = Some(t));
    }
    Err(mlua::Error::runtime("redis.call failed"))
}

fn take_pending_err() -> Option<Table> {
    PENDING_ERR.with(|p| p.borrow_mut().take())
}

fn raw_call_inner(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    PENDING_ERR.with(|p| p.borrow_mut().take());
    let mut it = args.into_iter();
    let mode = it.next().unwrap_or(Value::Nil);
    let mut argv: Vec<Bytes> = Vec::with_capacity(it.len());
    let mut bad = false;
    for v in it {
        match v {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Number(n) => argv.push(Bytes::from(lua_number_text(n))),
            Value::Integer(n) => argv.push(Bytes::from(n.to_string())),
            _ => {
                bad = true;
                break;
            }
        }
    }
    let err = |msg: &str| -> mlua::Result<(bool, Value)> {
        Ok((true, Value::Table(err_table_from(lua, msg.as_bytes())?)))
    };
    if argv.is_empty() && !bad {
        return err("Please specify at least one argument for this redis lib call");
    }
    if bad {
        return err("Lua redis lib command arguments must be strings or integers");
    }
    if mode == Value::Nil {
        // redis.acl_check_cmd: no ACLs here, every known command is allowed.
        let known = with_ctx(|e, _| e.commands.resolve(&argv).is_ok()).unwrap_or(false);
        if !known {
            return err("Invalid command passed to redis.acl_check_cmd()");
        }
        return Ok((false, Value::Boolean(true)));
    }
    let Some(result) = with_ctx(|e, caller| script_call(e, caller, argv)) else {
        return err("redis.call/pcall can only be called inside a script invocation");
    };
    match result {
        Err(msg) => {
            let t = err_table_from(lua, format!("-{msg}").as_bytes())?;
            t.raw_set("ignore_error_stats_update", true)?;
            Ok((true, Value::Table(t)))
        }
        Ok((frame, resp3)) => {
            let is_err = matches!(frame, Frame::Error(_));
            let v = frame_to_lua(lua, frame, resp3, 0)?;
            Ok((is_err, v))
        }
    }
}

/// Redis's scriptCall: the checks a command passes inside a script, then
/// the command on the script client. Err is a rejection (`CODE message`).
fn script_call(
    e: &mut Engine,
    _caller: &mut Client,
    argv: Vec<Bytes>,
) -> Result<(Frame, bool), String> {
    let idx = match e.commands.resolve(&argv) {
        Ok(i) => i,
        Err(_) => {
            let known = e.commands.lookup(&argv[0]);
            let is_arity = known.is_some_and(|i| {
                let row = &e.commands.rows[i];
                row.subs.is_empty() || argv.len() < 2 || e.commands.sub(i, &argv[1]).is_some()
            });
            let msg = if is_arity {
                "ERR Wrong number of args calling Redis command from script"
            } else {
                "ERR Unknown Redis command called from script"
            };
            if is_arity {
                if let Some(i) = known {
                    let i = if argv.len() >= 2 && !e.commands.rows[i].subs.is_empty() {
                        e.commands.sub(i, &argv[1]).unwrap_or(i)
                    } else {
                        i
                    };
                    e.cmd_stats[i].rejected += 1;
                }
            }
            e.count_error(msg);
            return Err(msg.to_string());
        }
    };
    if let Err(msg) = script_call_checks(e, idx) {
        e.cmd_stats[idx].rejected += 1;
        e.count_error(&msg);
        return Err(msg);
    }
    let Some(mut sc) = e.scripting.as_mut().and_then(|s| s.client.take()) else {
        return Err("ERR redis.call/pcall can only be called inside a script invocation".into());
    };
    let before_pending = e.repl.pending.len();
    sc.out.clear();
    dispatch::call(e, &mut sc, idx, &argv);
    let replicate = e
        .scripting
        .as_ref()
        .and_then(|s| s.run.as_ref())
        .is_none_or(|r| r.replicate);
    if !replicate {
        e.repl.pending.truncate(before_pending);
    }
    let resp3 = sc.proto == Proto::Resp3;
    let frame = match parse_frame(&sc.out) {
        Ok(Some((frame, _))) => frame,
        _ => Frame::Null,
    };
    sc.out.clear();
    if let Some(s) = e.scripting.as_mut() {
        s.client = Some(sc);
    }
    Ok((frame, resp3))
}

fn script_call_checks(e: &mut Engine, idx: usize) -> Result<(), String> {
    let spec = e.commands.rows[idx].spec;
    if spec.has(f::NOSCRIPT) {
        return Err("ERR This Redis command is not allowed from script".into());
    }
    if e.replica_link_down() && !e.config.replica_serve_stale_data && !spec.has(f::STALE) {
        return Err("ERR Can not execute the command on a stale replica".into());
    }
    let Some(run) = e.scripting.as_ref().and_then(|s| s.run.as_ref()) else {
        return Ok(());
    };
    let (read_only, write_dirty, allow_oom, pre_oom) =
        (run.read_only, run.write_dirty, run.allow_oom, run.pre_oom);
    if read_only && (spec.has(f::WRITE) || spec.has(f::MAY_REPLICATE)) {
        return Err("ERR Write commands are not allowed from read-only scripts.".into());
    }
    if spec.has(f::WRITE) && !write_dirty {
        if e.is_replica() && e.config.replica_read_only && !e.repl.from_primary {
            return Err(errors::READONLY.to_string());
        }
        if e.persistence_error() {
            return Err(errors::MISCONF.to_string());
        }
        if let Some(msg) = e.aof_disk_error() {
            return Err(msg);
        }
        if !e.enough_good_replicas() {
            return Err(errors::NOREPLICAS.to_string());
        }
    }
    if !allow_oom
        && e.config.maxmemory > 0
        && !e.repl.from_primary
        && !write_dirty
        && pre_oom
        && spec.has(f::DENYOOM)
    {
        return Err(errors::OOM.to_string());
    }
    if spec.has(f::WRITE) {
        if let Some(run) = e.scripting.as_mut().and_then(|s| s.run.as_mut()) {
            run.write_dirty = true;
        }
    }
    Ok(())
}

/// Client side caching for scripts: a script that reads remembers the
/// keys its EVAL declared, for the caller (Redis's call()).
pub fn remember_script_keys(e: &mut Engine, sc: &Client) {
    let Some((idx, args)) = e
        .scripting
        .as_ref()
        .and_then(|s| s.run.as_ref())
        .map(|r| (r.eval_idx, r.eval_args.clone()))
    else {
        return;
    };
    if sc.tracking.on && !sc.tracking.bcast {
        let spec = e.commands.rows[idx].spec;
        e.tracking_remember_keys(sc, spec, &args);
    }
}

/// Redis's redisProtocolToLuaType.
fn frame_to_lua(lua: &Lua, frame: Frame, resp3: bool, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_REPLY_DEPTH {
        return Ok(Value::Nil);
    }
    Ok(match frame {
        Frame::Simple(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(s.as_bytes())?)?;
            Value::Table(t)
        }
        Frame::Error(s) => {
            let mut m = b"-".to_vec();
            m.extend_from_slice(s.as_bytes());
            let t = err_table_from(lua, &m)?;
            t.raw_set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        Frame::Integer(n) => Value::Number(n as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(&b)?),
        Frame::Null => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Frame::NullArray => Value::Boolean(false),
        Frame::Array(items) | Frame::Push(items) => {
            let t = lua.create_table()?;
            for (i, it) in items.into_iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, it, resp3, depth + 1)?)?;
            }
            Value::Table(t)
        }
        Frame::Map(pairs) => {
            let inner = lua.create_table()?;
            for (k, v) in pairs {
                let k = frame_to_lua(lua, k, resp3, depth + 1)?;
                let v = frame_to_lua(lua, v, resp3, depth + 1)?;
                if k != Value::Nil {
                    inner.raw_set(k, v)?;
                }
            }
            let t = lua.create_table()?;
            t.raw_set("map", inner)?;
            Value::Table(t)
        }
        Frame::Set(items) => {
            let inner = lua.create_table()?;
            for it in items {
                let k = frame_to_lua(lua, it, resp3, depth + 1)?;
                if k != Value::Nil {
                    inner.raw_set(k, true)?;
                }
            }
            let t = lua.create_table()?;
            t.raw_set("set", inner)?;
            Value::Table(t)
        }
        Frame::Double(d) => {
            let t = lua.create_table()?;
            t.raw_set("double", d)?;
            Value::Table(t)
        }
        Frame::Boolean(b) => Value::Boolean(b),
        Frame::Verbatim(fmt, text) => {
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(&text)?)?;
            inner.raw_set("format", lua.create_string(fmt.as_bytes())?)?;
            let t = lua.create_table()?;
            t.raw_set("verbatim_string", inner)?;
            Value::Table(t)
        }
        Frame::BigNumber(s) => {
            let t = lua.create_table()?;
            t.raw_set("big_number", lua.create_string(s.as_bytes())?)?;
            Value::Table(t)
        }
    })
}

/// Deepest Lua table nesting converted into a reply.
const MAX_REPLY_DEPTH: usize = 1000;

/// What a Lua error table tells: message, position, stats already counted.
struct ErrInfo {
    msg: Vec<u8>,
    source: Option<Vec<u8>>,
    line: Option<Vec<u8>>,
    no_stats: bool,
}

fn lua_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Number(n) => Some(mlua_number_tostring(*n).into_bytes()),
        Value::Integer(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

/// Lua 5.1's own number formatting (`%.14g`), for `lua_tostring`.
fn mlua_number_tostring(n: f64) -> String {
    if n.is_finite() && n == n.trunc() && n.abs() < 1e15 {
        return format!("{}", n as i64);
    }
    let s = format!("{:.13e}", n);
    // Fall back to a plain representation; rare in error fields.
    match s.parse::<f64>() {
        Ok(v) => format!("{v}"),
        Err(_) => s,
    }
}

fn err_info(t: &Table) -> ErrInfo {
    let get = |k: &str| t.raw_get::<Value>(k).ok().and_then(|v| lua_bytes(&v));
    ErrInfo {
        msg: get("err").unwrap_or_default(),
        source: get("source"),
        line: get("line"),
        no_stats: matches!(
            t.raw_get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        ),
    }
}

/// Redis's luaReplyToRedisReply. Returns true when the reply is an error
/// whose statistics were already counted.
fn lua_to_reply(out: &mut Out, v: &Value, script_resp3: bool, depth: usize) -> bool {
    if depth > MAX_REPLY_DEPTH {
        out.error("ERR reached lua stack limit");
        return false;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if !script_resp3 {
                if *b {
                    out.int(1);
                } else {
                    out.null();
                }
            } else {
                out.boolean(*b);
            }
        }
        Value::Number(n) => out.int(c_double_to_i64(*n)),
        Value::Integer(n) => out.int(*n),
        Value::Table(t) => {
            if let Ok(Value::String(_)) = t.raw_get::<Value>("err") {
                let info = err_info(t);
                let mut m = b"-".to_vec();
                m.extend_from_slice(&info.msg);
                out.error(&String::from_utf8_lossy(&m));
                return info.no_stats;
            }
            if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
                out.simple(&String::from_utf8_lossy(&s.as_bytes()));
                return false;
            }
            if let Ok(Value::Number(d)) = t.raw_get::<Value>("double") {
                out.double(d);
                return false;
            }
            if let Ok(Value::Integer(d)) = t.raw_get::<Value>("double") {
                out.double(d as f64);
                return false;
            }
            if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
                let digits: String = String::from_utf8_lossy(&s.as_bytes())
                    .chars()
                    .map(|ch| if ch == '\r' || ch == '\n' { ' ' } else { ch })
                    .collect();
                if out.is_resp3() {
                    out.big_number(&digits);
                } else {
                    out.bulk(digits.as_bytes());
                }
                return false;
            }
            if let Ok(Value::Table(vt)) = t.raw_get::<Value>("verbatim_string") {
                if let (Ok(Value::String(fmt)), Ok(Value::String(s))) =
                    (vt.raw_get::<Value>("format"), vt.raw_get::<Value>("string"))
                {
                    out.verbatim(&String::from_utf8_lossy(&fmt.as_bytes()), &s.as_bytes());
                    return false;
                }
            }
            if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
                let d = out.deferred();
                let mut n = 0;
                for (k, v) in m.pairs::<Value, Value>().flatten() {
                    lua_to_reply(out, &k, script_resp3, depth + 1);
                    lua_to_reply(out, &v, script_resp3, depth + 1);
                    n += 1;
                }
                out.finish_map(d, n);
                return false;
            }
            if let Ok(Value::Table(m)) = t.raw_get::<Value>("set") {
                let d = out.deferred();
                let mut n = 0;
                for (k, _) in m.pairs::<Value, Value>().flatten() {
                    lua_to_reply(out, &k, script_resp3, depth + 1);
                    n += 1;
                }
                out.finish_set(d, n);
                return false;
            }
            let d = out.deferred();
            let mut n = 0usize;
            loop {
                let item: Value = t.raw_get(n + 1).unwrap_or(Value::Nil);
                if item == Value::Nil {
                    break;
                }
                lua_to_reply(out, &item, script_resp3, depth + 1);
                n += 1;
            }
            out.finish_array(d, n);
        }
        _ => out.null(),
    }
    false
}

/// C's `(long long)` of a double on x86-64: truncation, and the "integer
/// indefinite" value for NaN and out-of-range numbers.
fn c_double_to_i64(n: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-TWO_63..TWO_63).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// Parses the `#!lua flags=...` line (Redis's evalExtractShebangFlags):
/// the script flags and the length of the shebang line.
pub fn shebang_flags(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = crate::util::splitargs::split_args(&body[..end]).unwrap_or_default();
    let Some(engine) = parts.first() else {
        return Err("ERR Invalid engine in script shebang".into());
    };
    if engine.as_slice() != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match FLAG_NAMES.iter().find(|(n, _)| n.as_bytes() == name) {
                Some((_, fl)) => flags |= fl,
                None => {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

/// The command flags an EVAL-family request runs with (Redis's
/// evalGetCommandFlags): a script that declares flags replaces the
/// command's write / deny-oom / stale flags with its own.
pub fn eval_command_flags(e: &Engine, name: &str, args: &[Bytes], cmd_flags: u64) -> u64 {
    let evalsha = name.starts_with("evalsha");
    let Some(body_or_sha) = args.get(1) else {
        return cmd_flags;
    };
    let script_flags = if evalsha {
        if body_or_sha.len() != 40 {
            return cmd_flags;
        }
        let sha = String::from_utf8_lossy(body_or_sha).to_ascii_lowercase();
        match e.scripting.as_ref().and_then(|s| s.scripts.get(&sha)) {
            Some(s) => s.flags,
            None => return cmd_flags,
        }
    } else {
        let cached = e
            .scripting
            .as_ref()
            .and_then(|s| s.scripts.get(&sha1_hex(body_or_sha)))
            .map(|s| s.flags);
        match cached {
            Some(fl) => fl,
            None => match shebang_flags(body_or_sha) {
                Ok((fl, _)) => fl,
                Err(_) => return cmd_flags,
            },
        }
    };
    if script_flags & EVAL_COMPAT != 0 {
        return cmd_flags;
    }
    let mut fl = cmd_flags & !(f::STALE | f::DENYOOM | f::WRITE | f::MAY_REPLICATE);
    if script_flags & (ALLOW_OOM | NO_WRITES) == 0 {
        fl |= f::DENYOOM;
    }
    if script_flags & NO_WRITES == 0 {
        fl |= f::WRITE;
    }
    if script_flags & ALLOW_STALE != 0 {
        fl |= f::STALE;
    }
    fl
}

impl Engine {
    /// The interpreter, made on first use.
    fn scripting_init(&mut self) -> Result<&mut Scripting, String> {
        if self.scripting.is_none() {
            let s = Scripting::new(self.config.lua_enable_deprecated_api)
                .map_err(|e| format!("ERR Lua initialization failed: {e}"))?;
            self.scripting = Some(Box::new(s));
        }
        self.scripting
            .as_deref_mut()
            .ok_or_else(|| "ERR Lua initialization failed".to_string())
    }

    /// Compiles and caches `body` (Redis's luaCreateFunction): its SHA1.
    pub fn script_create(&mut self, body: &Bytes) -> Result<String, String> {
        let s = self.scripting_init()?;
        let sha = sha1_hex(body);
        if s.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = shebang_flags(body)?;
        let func = s
            .lua
            .load(&body[skip..])
            .set_name("@user_script")
            .set_mode(mlua::ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                let msg = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                format!("ERR Error compiling script (new function): {msg}")
            })?;
        s.scripts_mem += sha.len() + body.len();
        s.scripts.insert(
            sha.clone(),
            Script {
                body: body.clone(),
                flags,
                func,
            },
        );
        Ok(sha)
    }

    /// SCRIPT EXISTS for one SHA1.
    pub fn script_exists(&self, sha: &[u8]) -> bool {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        self.scripting
            .as_ref()
            .is_some_and(|s| s.scripts.contains_key(&sha))
    }

    /// SCRIPT FLUSH: a new interpreter, no cached scripts.
    pub fn script_flush(&mut self) {
        self.scripting = None;
    }

    /// Number of cached scripts.
    pub fn scripts_cached(&self) -> usize {
        self.scripting.as_ref().map_or(0, |s| s.scripts.len())
    }

    /// (used_memory_lua, used_memory_scripts_eval).
    pub fn scripts_memory(&self) -> (usize, usize) {
        match &self.scripting {
            Some(s) => (s.memory(), s.scripts_mem),
            None => (0, 0),
        }
    }

    /// Runs a cached script for `c` (Redis's evalGenericCommand after the
    /// lookup): the checks of its flags, then the script, then its reply.
    pub fn script_run(
        &mut self,
        c: &mut Client,
        sha: &str,
        args: &[Bytes],
        numkeys: usize,
        ro: bool,
    ) {
        let Some(s) = self.scripting.as_ref() else {
            c.reply().error(NOSCRIPT);
            return;
        };
        let Some(script) = s.scripts.get(sha) else {
            c.reply().error(NOSCRIPT);
            return;
        };
        let flags = script.flags;
        let func = script.func.clone();
        if let Err(msg) = self.script_prepare_checks(flags, ro) {
            c.reply().error(&msg);
            return;
        }
        let eval_idx = c.cmd_index.unwrap_or(0);
        let read_only = ro || (flags & EVAL_COMPAT == 0 && flags & NO_WRITES != 0);
        let allow_oom = flags & EVAL_COMPAT == 0 && flags & ALLOW_OOM != 0;
        let pre_oom = self.pre_command_oom;
        let Some(s) = self.scripting.as_deref_mut() else {
            return;
        };
        let mut sc = s.client.take().unwrap_or_else(|| {
            let mut sc = Box::new(Client::new(0, "lua".into(), String::new(), -1, true));
            sc.script = true;
            sc.deny_blocking = true;
            sc
        });
        sc.id = c.id;
        sc.db = c.db;
        sc.proto = Proto::Resp2;
        sc.user = c.user.clone();
        sc.tracking = std::mem::take(&mut c.tracking);
        s.client = Some(sc);
        s.run = Some(Run {
            read_only,
            allow_oom,
            write_dirty: false,
            pre_oom,
            replicate: true,
            eval_idx,
            eval_args: args.to_vec(),
        });
        let lua = s.lua.clone();
        let globals = lua.globals();
        let keys = &args[3..3 + numkeys];
        let argv = &args[3 + numkeys..];
        let set = |name: &str, items: &[Bytes]| -> mlua::Result<()> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, it) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(it)?)?;
            }
            globals.raw_set(name, t)
        };
        let co = set("KEYS", keys)
            .and_then(|_| set("ARGV", argv))
            .and_then(|_| lua.create_thread(func));
        // Only the commands the script runs are replayed.
        self.prevent_propagation();
        let co = match co {
            Ok(co) => co,
            Err(err) => {
                self.script_end(c);
                let msg: String = err.to_string().chars().take(100).collect();
                c.reply()
                    .error(&format!("ERR Error running script {sha}, {msg}"));
                return;
            }
        };
        let threshold = self.config.busy_reply_threshold;
        let main = co.to_pointer() as *mut mlua::ffi::lua_State;
        if threshold > 0 {
            // SAFETY: `main` is the coroutine's lua_State, alive while `co`
            // (kept in Scripting until the script ends) holds it.
            unsafe {
                mlua::ffi::lua_sethook(main, Some(busy_hook), mlua::ffi::LUA_MASKCOUNT, 100_000);
            }
        }
        // Only a top-level EVAL of a connection can leave the engine
        // while it runs: inside EXEC, or when loading, it runs to its end.
        let can_yield = self.repl.depth == 1
            && c.fd >= 0
            && c.kind == crate::server::client::ClientKind::Normal
            && !self.loading;
        HOOK.with(|h| {
            *h.borrow_mut() = Some(HookState {
                start: Instant::now(),
                threshold_ms: threshold.max(0) as u64,
                killed: false,
                timed_out: false,
                yielded: false,
                main,
                own: Vec::new(),
                can_yield,
            })
        });
        if let Some(s) = self.scripting.as_deref_mut() {
            s.co = Some(co);
            s.sha = sha.to_string();
            s.caller = c.id;
        }
        self.script_step(c);
    }

    /// Resumes the running script once. When it ends, its reply goes to
    /// `c` and true is returned; false when the busy hook suspended it.
    fn script_step(&mut self, c: &mut Client) -> bool {
        let Some(s) = self.scripting.as_deref_mut() else {
            return true;
        };
        let (Some(co), resume, errpos) = (s.co.clone(), s.resume.clone(), s.errpos.clone()) else {
            return true;
        };
        let sha = s.sha.clone();
        CTX.with(|x| x.set(Some((NonNull::from(&mut *self), NonNull::from(&mut *c)))));
        let result = resume.call::<MultiValue>(co.clone());
        CTX.with(|x| x.set(None));
        let yielded = HOOK.with(|h| {
            h.borrow_mut()
                .as_mut()
                .is_some_and(|st| std::mem::take(&mut st.yielded))
        });
        let suspended = co.status() == mlua::ThreadStatus::Resumable;
        if result.is_ok() && suspended && yielded {
            if !self.script_busy {
                tracing::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: {sha}.",
                    self.config.busy_reply_threshold
                );
            }
            self.script_busy = true;
            c.script_busy = true;
            self.script_kick.notify_one();
            return false;
        }
        let resp3 = self.script_end(c);
        let mut no_stats = false;
        match result {
            Ok(vals) => {
                let mut it = vals.into_iter();
                let ok = matches!(it.next(), Some(Value::Boolean(true)));
                let v = it.next().unwrap_or(Value::Nil);
                let v = if ok && suspended {
                    // The script itself yielded outside any coroutine of its own.
                    errpos
                        .call::<Value>((co.clone(), "attempt to yield from outside a coroutine"))
                        .unwrap_or(Value::Nil)
                } else if ok {
                    let mut out = c.reply();
                    no_stats = lua_to_reply(&mut out, &v, resp3, 0);
                    Value::Nil
                } else {
                    errpos.call::<Value>((co.clone(), v)).unwrap_or(Value::Nil)
                };
                if ok && !suspended {
                    // Replied above.
                } else if let Value::Table(t) = &v {
                    let info = err_info(t);
                    let mut m = String::from_utf8_lossy(&info.msg).into_owned();
                    if let (Some(src), Some(line)) = (&info.source, &info.line) {
                        m.push_str(&format!(
                            " script: {sha}, on {}:{}.",
                            String::from_utf8_lossy(src),
                            String::from_utf8_lossy(line)
                        ));
                    }
                    c.reply().error(&m);
                    no_stats = info.no_stats;
                } else {
                    c.reply().error(&format!(
                        "ERR Error running script {sha}, execution failure"
                    ));
                }
            }
            Err(e) => {
                let msg: String = e.to_string().chars().take(100).collect();
                c.reply()
                    .error(&format!("ERR Error running script {sha}, {msg}"));
            }
        }
        if no_stats {
            self.error_stats_skip = true;
        }
        // A step of garbage collection now and then, as Redis does.
        if let Some(s) = self.scripting.as_deref_mut() {
            s.gc_count += 1;
            if s.gc_count >= 50 {
                s.gc_count = 0;
                let _ = s.lua.gc_step_kbytes(50);
            }
        }
        true
    }

    /// The script ended: the caller gets its tracking state back, the
    /// engine leaves the busy state. Answers whether the script switched
    /// to RESP3.
    fn script_end(&mut self, c: &mut Client) -> bool {
        HOOK.with(|h| *h.borrow_mut() = None);
        self.script_busy = false;
        c.script_busy = false;
        let mut resp3 = false;
        if let Some(s) = self.scripting.as_deref_mut() {
            s.run = None;
            s.co = None;
            if let Some(sc) = s.client.as_mut() {
                c.tracking = std::mem::take(&mut sc.tracking);
                resp3 = sc.proto == Proto::Resp3;
            }
        }
        resp3
    }

    /// The cron of a busy script: runs it on (after the other clients had
    /// their turn) until it ends, then wakes its caller.
    pub fn script_continue(&mut self) {
        let Some(id) = self
            .scripting
            .as_ref()
            .filter(|s| s.co.is_some())
            .map(|s| s.caller)
        else {
            self.script_busy = false;
            return;
        };
        let registered = self.clients.remove(&id);
        let known = registered.is_some();
        let mut c = registered
            .unwrap_or_else(|| Box::new(Client::new(id, String::new(), String::new(), -1, true)));
        self.repl.depth += 1;
        let done = self.script_step(&mut c);
        self.repl.depth -= 1;
        self.propagate_pending(true);
        if done {
            if c.out.first() == Some(&b'-') && !std::mem::take(&mut self.error_stats_skip) {
                let end = c
                    .out
                    .iter()
                    .position(|&b| b == b'\r')
                    .unwrap_or(c.out.len());
                let msg = String::from_utf8_lossy(&c.out[1..end]).into_owned();
                self.count_error(&msg);
            }
            self.error_stats_skip = false;
            if self.tracking.due {
                self.tracking_after_command(&mut c);
            }
            c.wake.notify_one();
        }
        if known {
            self.clients.insert(id, c);
        }
    }

    /// SCRIPT KILL.
    pub fn script_kill(&mut self) -> Result<(), String> {
        let running = self.script_busy && self.scripting.as_ref().is_some_and(|s| s.co.is_some());
        if !running {
            return Err(NOTBUSY.to_string());
        }
        let dirty = self
            .scripting
            .as_ref()
            .and_then(|s| s.run.as_ref())
            .is_some_and(|r| r.write_dirty);
        if dirty {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into());
        }
        HOOK.with(|h| {
            if let Some(st) = h.borrow_mut().as_mut() {
                st.killed = true;
            }
        });
        Ok(())
    }

    /// Redis's scriptPrepareForRun checks of the script's flags.
    fn script_prepare_checks(&self, flags: u32, ro: bool) -> Result<(), String> {
        let running_stale = self.replica_link_down() && !self.config.replica_serve_stale_data;
        if flags & EVAL_COMPAT != 0 {
            if running_stale {
                return Err(errors::MASTERDOWN.to_string());
            }
            return Ok(());
        }
        if running_stale && flags & ALLOW_STALE == 0 {
            return Err("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.".into());
        }
        if flags & NO_WRITES == 0 {
            if self.is_replica() && self.config.replica_read_only && !self.repl.from_primary {
                return Err(
                    "READONLY Can not run script with write flag on readonly replica".into(),
                );
            }
            if !self.repl.from_primary {
                if self.persistence_error() {
                    return Err("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into());
                }
                if let Some(msg) = self.aof_disk_error() {
                    let detail = msg.split_once("AOF file: ").map_or("", |(_, d)| d);
                    return Err(format!("MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {detail}"));
                }
            }
            if ro {
                return Err(
                    "ERR Can not execute a script with write flag using *_ro command.".into(),
                );
            }
            if !self.enough_good_replicas() {
                return Err(errors::NOREPLICAS.to_string());
            }
        }
        if self.pre_command_oom && self.config.maxmemory > 0 && flags & (ALLOW_OOM | NO_WRITES) == 0
        {
            return Err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into());
        }
        Ok(())
    }
}

/// Runs a busy script on, one hook interval at a time, letting every other
/// task (the connections, which get -BUSY) run in between.
pub async fn busy_loop(engine: std::rc::Rc<std::cell::RefCell<Engine>>) {
    let kick = engine.borrow().script_kick.clone();
    loop {
        kick.notified().await;
        loop {
            tokio::task::yield_now().await;
            let mut e = engine.borrow_mut();
            if !e.script_busy || e.shutdown.is_some() {
                break;
            }
            e.script_continue();
        }
    }
}
