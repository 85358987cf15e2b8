//! What a plugin prints: Rust's `println!`/`eprintln!` reach
//! `wasi:cli/stdout`/`stderr`. The host offers exactly those two streams,
//! write-only, and turns what is written into the call's log lines (tagged
//! with plugin and merchant by the caller, bounded by the log budget).
//! Every other function of those interfaces stays a trap. std's `HashMap`
//! gets its seed from the call's replayable randomness.

use wasmtime::component::{ComponentType, Lift, Linker, Lower, Resource, ResourceType};

use super::CallCtx;

/// The host side of a `wasi:io/streams` output-stream.
pub struct OutputStream;

const STDOUT: u32 = 1;
const STDERR: u32 = 2;

/// Define the streams the component imports (at their exact versions).
pub(super) fn define(linker: &mut Linker<CallCtx>, import: &str) -> wasmtime::Result<()> {
    let base = import.split('@').next().unwrap_or(import);
    match base {
        "wasi:io/streams" => {
            let mut streams = linker.instance(import)?;
            streams.resource(
                "output-stream",
                ResourceType::host::<OutputStream>(),
                |_, _| Ok(()),
            )?;
            for method in ["blocking-write-and-flush", "write"] {
                streams.func_wrap(
                    &format!("[method]output-stream.{method}"),
                    |mut store, (stream, bytes): (Resource<OutputStream>, Vec<u8>)| {
                        store.data_mut().print(stream.rep() == STDERR, &bytes);
                        Ok((Ok::<(), StreamError>(()),))
                    },
                )?;
            }
            for method in ["blocking-flush", "flush"] {
                streams.func_wrap(
                    &format!("[method]output-stream.{method}"),
                    |_, (_,): (Resource<OutputStream>,)| Ok((Ok::<(), StreamError>(()),)),
                )?;
            }
            streams.func_wrap(
                "[method]output-stream.check-write",
                |_, (_,): (Resource<OutputStream>,)| Ok((Ok::<u64, StreamError>(4096),)),
            )?;
            // Writers wait for readiness; the captured streams are always ready.
            streams.resource("pollable", ResourceType::host::<()>(), |_, _| Ok(()))?;
            streams.func_wrap(
                "[method]output-stream.subscribe",
                |_, (_,): (Resource<OutputStream>,)| Ok((Resource::<()>::new_own(0),)),
            )?;
        }
        "wasi:io/poll" => {
            let mut poll = linker.instance(import)?;
            poll.resource("pollable", ResourceType::host::<()>(), |_, _| Ok(()))?;
            poll.func_wrap("[method]pollable.block", |_, (_,): (Resource<()>,)| Ok(()))?;
            poll.func_wrap("[method]pollable.ready", |_, (_,): (Resource<()>,)| {
                Ok((true,))
            })?;
            poll.func_wrap("poll", |_, (all,): (Vec<Resource<()>>,)| {
                Ok(((0..all.len() as u32).collect::<Vec<u32>>(),))
            })?;
        }
        "wasi:cli/stdout" | "wasi:cli/stderr" => {
            let (name, rep) = if base.ends_with("stdout") {
                ("get-stdout", STDOUT)
            } else {
                ("get-stderr", STDERR)
            };
            let mut cli = linker.instance(import)?;
            // The interface re-exports the stream type it `use`s.
            cli.resource(
                "output-stream",
                ResourceType::host::<OutputStream>(),
                |_, _| Ok(()),
            )?;
            cli.func_wrap(name, move |_, (): ()| {
                Ok((Resource::<OutputStream>::new_own(rep),))
            })?;
        }
        // std's `HashMap` seeds its hasher here: from the call's seed, so
        // a decision replays exactly.
        "wasi:random/insecure-seed" => {
            linker
                .instance(import)?
                .func_wrap("insecure-seed", |mut store, (): ()| {
                    let ctx = store.data_mut();
                    Ok(((ctx.random_u64(), ctx.random_u64()),))
                })?;
        }
        _ => {}
    }
    Ok(())
}

/// `wasi:io/streams.stream-error`; the captured streams never fail.
#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
enum StreamError {
    #[component(name = "last-operation-failed")]
    #[allow(dead_code)]
    LastOperationFailed(Resource<()>),
    #[component(name = "closed")]
    #[allow(dead_code)]
    Closed,
}
