//! Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH
//! PUBSUB SSUBSCRIBE SUNSUBSCRIBE SPUBLISH. The registry and the delivery
//! of messages live in `server::pubsub`.

use bytes::Bytes;

use super::introspection::reply_help;
use crate::dispatch::{acl, flags as f, CommandSpec, Keys};
use crate::server::client::Client;
use crate::server::pubsub::Kind;
use crate::server::Engine;
use crate::util::glob::string_match;

/// SUBSCRIBE channel [channel ...]
fn subscribe(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    for ch in &args[1..] {
        e.subscribe(c, Kind::Channel, ch);
    }
}

/// UNSUBSCRIBE [channel [channel ...]]
fn unsubscribe(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    unsubscribe_kind(e, c, args, Kind::Channel);
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    for p in &args[1..] {
        e.subscribe(c, Kind::Pattern, p);
    }
}

/// PUNSUBSCRIBE [pattern [pattern ...]]
fn punsubscribe(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    unsubscribe_kind(e, c, args, Kind::Pattern);
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn ssubscribe(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    for ch in &args[1..] {
        e.subscribe(c, Kind::Shard, ch);
    }
}

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
fn sunsubscribe(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    unsubscribe_kind(e, c, args, Kind::Shard);
}

fn unsubscribe_kind(e: &mut Engine, c: &mut Client, args: &[Bytes], kind: Kind) {
    if args.len() == 1 {
        e.unsubscribe_all(c, kind, true);
        return;
    }
    for name in &args[1..] {
        e.unsubscribe(c, kind, name, true);
    }
}

/// PUBLISH channel message
fn publish(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let n = e.publish(Some(&mut *c), &args[1], &args[2]);
    // Replicas deliver it to their own subscribers.
    e.force_propagation();
    c.reply().int(n as i64);
}

/// SPUBLISH shardchannel message
fn spublish(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let n = e.publish_shard(Some(&mut *c), &args[1], &args[2]);
    e.force_propagation();
    c.reply().int(n as i64);
}

/// Replies with the channels of `names` matching `pattern` (all without one).
fn channel_list<'a>(
    c: &mut Client,
    names: impl Iterator<Item = &'a Bytes>,
    pattern: Option<&Bytes>,
) {
    let mut out = c.reply();
    let d = out.deferred();
    let mut n = 0;
    for name in names {
        if pattern.is_none_or(|p| string_match(p, name, false)) {
            out.bulk(name);
            n += 1;
        }
    }
    out.finish_array(d, n);
}

/// Too many arguments for a PUBSUB subcommand whose arity is open-ended.
fn syntax_error(c: &mut Client, args: &[Bytes]) {
    c.reply().error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args[1]),
        String::from_utf8_lossy(&args[0]).to_uppercase()
    ));
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 3 {
        return syntax_error(c, args);
    }
    channel_list(c, e.pubsub.channels.keys(), args.get(2));
}

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 3 {
        return syntax_error(c, args);
    }
    channel_list(c, e.pubsub.shard_channels.keys(), args.get(2));
}

/// Replies channel, subscriber count pairs (a flat array, as Redis does
/// even in RESP3).
fn numsub(c: &mut Client, reg: &std::collections::HashMap<Bytes, Vec<u64>>, names: &[Bytes]) {
    let mut out = c.reply();
    out.array(names.len() * 2);
    for name in names {
        out.bulk(name);
        out.int(reg.get(name).map_or(0, |ids| ids.len()) as i64);
    }
}

/// PUBSUB NUMSUB [channel [channel ...]]
fn pubsub_numsub(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    numsub(c, &e.pubsub.channels, &args[2..]);
}

/// PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]
fn pubsub_shardnumsub(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    numsub(c, &e.pubsub.shard_channels, &args[2..]);
}

/// PUBSUB NUMPAT
fn pubsub_numpat(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let n = e.pubsub.patterns.len() as i64;
    c.reply().int(n);
}

/// PUBSUB HELP
fn pubsub_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
}

/// Flags of the (un)subscribe commands.
const SUB: u64 = f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE;
/// Flags of the publish commands.
const PUB: u64 = f::PUBSUB | f::LOADING | f::STALE | f::FAST | f::MAY_REPLICATE;
/// Flags of the PUBSUB subcommands.
const INTRO: u64 = f::PUBSUB | f::LOADING | f::STALE;
const SLOW: u64 = acl::PUBSUB | acl::SLOW;

/// Shard channels sit where keys would (Redis declares them as key specs
/// flagged NOT_KEY, for cluster slot routing).
const SHARD_CHANNELS: Keys = Keys::ALL;

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, INTRO, SLOW, Keys::NONE, pubsub_channels)
        .group("pubsub")
        .since("2.8.0")
        .summary("List active channels"),
    CommandSpec::new("numsub", -2, INTRO, SLOW, Keys::NONE, pubsub_numsub)
        .group("pubsub")
        .since("2.8.0")
        .summary("Get the count of subscribers for channels"),
    CommandSpec::new("numpat", 2, INTRO, SLOW, Keys::NONE, pubsub_numpat)
        .group("pubsub")
        .since("2.8.0")
        .summary("Get the count of unique patterns pattern subscriptions"),
    CommandSpec::new(
        "shardchannels",
        -2,
        INTRO,
        SLOW,
        Keys::NONE,
        pubsub_shardchannels,
    )
    .group("pubsub")
    .since("7.0.0")
    .summary("List active shard channels"),
    CommandSpec::new(
        "shardnumsub",
        -2,
        INTRO,
        SLOW,
        Keys::NONE,
        pubsub_shardnumsub,
    )
    .group("pubsub")
    .since("7.0.0")
    .summary("Get the count of subscribers for shard channels"),
    CommandSpec::new(
        "help",
        2,
        f::LOADING | f::STALE,
        acl::SLOW,
        Keys::NONE,
        pubsub_help,
    )
    .group("pubsub")
    .since("6.2.0")
    .summary("Show helpful text about the different subcommands"),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB, SLOW, Keys::NONE, subscribe)
        .group("pubsub")
        .since("2.0.0")
        .summary("Listen for messages published to the given channels"),
    CommandSpec::new("unsubscribe", -1, SUB, SLOW, Keys::NONE, unsubscribe)
        .group("pubsub")
        .since("2.0.0")
        .summary("Stop listening for messages posted to the given channels"),
    CommandSpec::new("psubscribe", -2, SUB, SLOW, Keys::NONE, psubscribe)
        .group("pubsub")
        .since("2.0.0")
        .summary("Listen for messages published to channels matching the given patterns"),
    CommandSpec::new("punsubscribe", -1, SUB, SLOW, Keys::NONE, punsubscribe)
        .group("pubsub")
        .since("2.0.0")
        .summary("Stop listening for messages posted to channels matching the given patterns"),
    CommandSpec::new(
        "publish",
        3,
        PUB,
        acl::PUBSUB | acl::FAST,
        Keys::NONE,
        publish,
    )
    .group("pubsub")
    .since("2.0.0")
    .summary("Post a message to a channel"),
    CommandSpec::container("pubsub", -2, PUBSUB_SUBCOMMANDS)
        .group("pubsub")
        .since("2.8.0")
        .summary("A container for Pub/Sub commands"),
    CommandSpec::new("ssubscribe", -2, SUB, SLOW, SHARD_CHANNELS, ssubscribe)
        .group("pubsub")
        .since("7.0.0")
        .summary("Listen for messages published to the given shard channels"),
    CommandSpec::new("sunsubscribe", -1, SUB, SLOW, SHARD_CHANNELS, sunsubscribe)
        .group("pubsub")
        .since("7.0.0")
        .summary("Stop listening for messages posted to the given shard channels"),
    CommandSpec::new(
        "spublish",
        3,
        PUB,
        acl::PUBSUB | acl::FAST,
        Keys::ONE,
        spublish,
    )
    .group("pubsub")
    .since("7.0.0")
    .summary("Post a message to a shard channel"),
];
