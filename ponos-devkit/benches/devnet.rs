//! How fast a devnet is ready and how fast it answers, as a user sees it.
//!
//! 1. `ponos devnet up --detach` (four executors, L1 and L2) is timed from the command's start
//!    to its return, which it does once the devnet is ready, for each performer runtime:
//!    in-process, native process (the example square performer, static) and Docker (its
//!    `FROM scratch` image). `PONOS_BENCH_RUNS` runs each (default 5); median, min and max.
//!    The same with 64 executors (process performers).
//! 2. Task latency: `PONOS_BENCH_TASKS` tasks (default 200), one after another, alternating L1
//!    and L2, on a devnet with process performers and on one with Docker performers, from
//!    `createTask` sent to `TaskVerified` seen; p50, p90, p99. Then the same number paced at
//!    5 tasks/s (each sent on its tick, whatever the others are doing).
//! 3. Footprint: `PONOS_BENCH_FOOTPRINT` tasks (default 0: skipped; 10000 for the documented
//!    number), 64 in flight, on a devnet with process performers; then the resident memory of
//!    every devnet process (this one, which runs the devnet, its anvils and its performers),
//!    read from `/proc`. `PONOS_BENCH_ONLY=footprint` runs only this part.
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

/// Task `i`: `i + 2` squared, on L1 for even `i` and L2 for odd; checks the result and returns
/// its latency in ms.
async fn square(devnet: &Devnet, i: usize) -> f64 {
    let chain = if i.is_multiple_of(2) {
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
    outcome.latency_ms as f64
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

/// Latencies of `tasks` tasks sent at `rate` per second (each on its tick), sorted.
async fn paced(runtime: PerformerRuntime, tasks: usize, rate: f64) -> Vec<f64> {
    let devnet = std::sync::Arc::new(
        Devnet::start_with(DevnetConfig::default(), runtime)
            .await
            .expect("the devnet starts"),
    );
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut running = tokio::task::JoinSet::new();
    for i in 0..tasks {
        tick.tick().await;
        let devnet = devnet.clone();
        running.spawn(async move { square(&devnet, i).await });
    }
    let mut latencies = Vec::with_capacity(tasks);
    while let Some(latency) = running.join_next().await {
        latencies.push(latency.expect("the task runs"));
    }
    devnet.stop().await;
    latencies.sort_by(f64::total_cmp);
    latencies
}

/// Resident memory (kB) of process `pid`.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// This process's children (the performers).
fn children() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .and_then(|rest| rest.split_whitespace().nth(1))
                    .is_some_and(|ppid| ppid == me.to_string())
            })
        })
        .collect()
}

/// Runs `tasks` tasks, 64 in flight, then prints the resident memory of every devnet process.
async fn footprint(runtime: PerformerRuntime, tasks: usize) {
    let devnet = std::sync::Arc::new(
        Devnet::start_with(DevnetConfig::default(), runtime)
            .await
            .expect("the devnet starts"),
    );
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for i in 0..tasks {
        if running.len() == 64 {
            running.join_next().await.unwrap().expect("the task runs");
        }
        let task_devnet = devnet.clone();
        running.spawn(async move {
            square(&task_devnet, i).await;
        });
        if (i + 1) % 1000 == 0 {
            let anvils: Vec<u64> = devnet
                .summary()
                .anvil_pids
                .iter()
                .map(|p| rss_kb(*p) / 1024)
                .collect();
            eprintln!(
                "{} tasks sent in {:.0} s; devnet {} MB, anvils {anvils:?} MB",
                i + 1,
                started.elapsed().as_secs_f64(),
                rss_kb(std::process::id()) / 1024
            );
        }
    }
    while let Some(done) = running.join_next().await {
        done.expect("the task runs");
    }
    let summary = devnet.summary().clone();
    let devnet_kb = rss_kb(std::process::id());
    let anvils: Vec<u64> = summary.anvil_pids.iter().map(|p| rss_kb(*p)).collect();
    let performers: u64 = children()
        .into_iter()
        .filter(|p| !summary.anvil_pids.contains(p))
        .map(rss_kb)
        .sum();
    let total = devnet_kb + anvils.iter().sum::<u64>() + performers;
    println!(
        "\n## Footprint after {tasks} tasks ({:.0} s)\n",
        started.elapsed().as_secs_f64()
    );
    println!("| process | resident |\n|---|---:|");
    println!(
        "| devnet (aggregator, executors, this process) | {} MB |",
        devnet_kb / 1024
    );
    for (name, kb) in ["L1 anvil", "L2 anvil"].iter().zip(&anvils) {
        println!("| {name} | {} MB |", kb / 1024);
    }
    println!("| 4 performers | {} MB |", performers / 1024);
    println!("| **all** | **{} MB** |", total / 1024);
    devnet.stop().await;
}

async fn latencies(runtime: PerformerRuntime, tasks: usize) -> Vec<f64> {
    let devnet = Devnet::start_with(DevnetConfig::default(), runtime)
        .await
        .expect("the devnet starts");
    let mut latencies = Vec::with_capacity(tasks);
    for i in 0..tasks {
        latencies.push(square(&devnet, i).await);
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

    let footprint_tasks = env_usize("PONOS_BENCH_FOOTPRINT", 0);
    if std::env::var("PONOS_BENCH_ONLY").is_ok_and(|only| only == "footprint") {
        footprint(
            PerformerRuntime::Process(binary.clone()),
            footprint_tasks.max(1),
        )
        .await;
        return;
    }
    let binary_arg = binary.to_str().unwrap().to_string();
    let runtimes: [(&str, Vec<&str>); 4] = [
        ("in-process", vec!["--runtime", "in-process"]),
        (
            "process",
            vec!["--runtime", "process", "--performer", &binary_arg],
        ),
        ("docker", vec!["--runtime", "docker", "--performer", IMAGE]),
        (
            "64 executors, native process",
            vec![
                "--runtime",
                "process",
                "--performer",
                &binary_arg,
                "--executors",
                "64",
            ],
        ),
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
    println!("\n## Task latency on the devnet, {tasks} tasks paced at 5/s (L1 and L2)\n");
    println!("| performers | p50 | p90 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    let sorted = paced(PerformerRuntime::Process(binary.clone()), tasks, 5.0).await;
    println!(
        "| process | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
        percentile(&sorted, 50.0),
        percentile(&sorted, 90.0),
        percentile(&sorted, 99.0),
        sorted[sorted.len() - 1]
    );
    if footprint_tasks > 0 {
        footprint(PerformerRuntime::Process(binary.clone()), footprint_tasks).await;
    }
    // Results reach the shell before the devnets' teardown logs, if any.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
