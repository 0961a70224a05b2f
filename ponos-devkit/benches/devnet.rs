//! How fast a devnet is ready and how fast it answers, as a user sees it.
//!
//! 1. `ponos devnet up --detach` (four executors, L1 and L2) is timed from the command's start
//!    to its return, which it does once the devnet is ready, for each performer runtime:
//!    in-process, native process (the example square performer, static) and Docker (its
//!    `FROM scratch` image). `PONOS_BENCH_RUNS` runs each (default 5); median, min and max.
//! 2. Task latency: `PONOS_BENCH_TASKS` tasks (default 200), one after another, alternating L1
//!    and L2, on a devnet with process performers and on one with Docker performers, from
//!    `createTask` sent to `TaskVerified` seen; p50, p90, p99.
//!
//! Run: `cargo bench -p ponos-devkit --bench devnet` (needs anvil and Docker: script/setup).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use ponos_devkit::devnet::{ChainRef, Devnet, DevnetConfig, PerformerRuntime};

const IMAGE: &str = "ponos-bench-square:latest";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times `ponos devnet up --detach` with `args` until it returns ready; stops the devnet.
fn time_up(state: &Path, args: &[&str]) -> (f64, u64) {
    let ponos = env!("CARGO_BIN_EXE_ponos");
    let state_dir = state.to_str().unwrap();
    let started = Instant::now();
    let up = Command::new(ponos)
        .args(["devnet", "up", "--detach", "--state-dir", state_dir])
        .args(args)
        .output()
        .expect("ponos runs");
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        up.status.success(),
        "devnet up {args:?}: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let ready_ms = ponos_devkit::devnet::read_summary(state).unwrap().ready_ms;
    let down = Command::new(ponos)
        .args(["devnet", "down", "--state-dir", state_dir])
        .output()
        .expect("ponos runs");
    assert!(down.status.success());
    (wall, ready_ms)
}

async fn latencies(runtime: PerformerRuntime, tasks: usize) -> Vec<f64> {
    let devnet = Devnet::start_with(DevnetConfig::default(), runtime)
        .await
        .expect("the devnet starts");
    let mut latencies = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let chain = if i % 2 == 0 {
            ChainRef::L1
        } else {
            ChainRef::L2
        };
        let n = i + 2;
        let outcome = devnet
            .create_task(chain, n.to_string().into_bytes())
            .await
            .expect("the task is verified");
        assert_eq!(outcome.result.as_ref(), (n * n).to_string().as_bytes());
        latencies.push(outcome.latency_ms as f64);
    }
    devnet.stop().await;
    latencies.sort_by(f64::total_cmp);
    latencies
}

#[tokio::main]
async fn main() {
    let runs = env_usize("PONOS_BENCH_RUNS", 5);
    let tasks = env_usize("PONOS_BENCH_TASKS", 200);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = workspace.join("target/bench-performer");

    eprintln!("building the square performer (static) and its image");
    let binary: PathBuf =
        ponos_executor::docker::build_static_binary(&workspace, "square-performer", &target)
            .await
            .expect("the example performer builds");
    let docker = ponos_executor::docker::connect()
        .await
        .expect("Docker runs (script/setup starts it)");
    ponos_executor::docker::build_image(&docker, &binary, IMAGE)
        .await
        .expect("the image builds");

    let binary_arg = binary.to_str().unwrap().to_string();
    let runtimes: [(&str, Vec<&str>); 3] = [
        ("in-process", vec!["--runtime", "in-process"]),
        (
            "process",
            vec!["--runtime", "process", "--performer", &binary_arg],
        ),
        ("docker", vec!["--runtime", "docker", "--performer", IMAGE]),
    ];
    println!("## ponos devnet up → ready (4 executors, L1 + L2), {runs} runs each\n");
    println!("| performers | median | min | max | of which the devnet's own ready time (median) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, args) in &runtimes {
        let mut walls = Vec::new();
        let mut readies = Vec::new();
        for _ in 0..runs {
            let state = tempfile::tempdir().unwrap();
            let (wall, ready) = time_up(state.path(), args);
            walls.push(wall);
            readies.push(ready as f64);
        }
        walls.sort_by(f64::total_cmp);
        readies.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            percentile(&walls, 50.0),
            walls[0],
            walls[walls.len() - 1],
            percentile(&readies, 50.0)
        );
    }

    println!("\n## Task latency on the devnet, {tasks} tasks one after another (L1 and L2)\n");
    println!("| performers | p50 | p90 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    for (name, runtime) in [
        ("process", PerformerRuntime::Process(binary.clone())),
        ("docker", PerformerRuntime::Docker(IMAGE.into())),
    ] {
        let sorted = latencies(runtime, tasks).await;
        println!(
            "| {name} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            percentile(&sorted, 50.0),
            percentile(&sorted, 90.0),
            percentile(&sorted, 99.0),
            sorted[sorted.len() - 1]
        );
    }
    // Results reach the shell before the devnets' teardown logs, if any.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
