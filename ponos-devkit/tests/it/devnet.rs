//! The devnet as a library (what an AVS's tests use) and through `ponos devnet` and
//! `ponos task`, on real anvil chains with real gRPC executors.

use alloy::{
    primitives::{U256, address},
    providers::{Provider, ProviderBuilder},
};
use alloy_node_bindings::Anvil;

use ponos_devkit::devnet::{ChainRef, Curve, Devnet, DevnetConfig, PerformerRuntime, read_summary};

use crate::{
    Reverse, ponos,
    procs::{alive, children},
};

#[tokio::test(flavor = "multi_thread")]
async fn a_devnet_in_a_test_verifies_tasks_on_l1_and_l2() {
    let devnet = Devnet::start(DevnetConfig::default(), Reverse)
        .await
        .unwrap();
    let summary = devnet.summary().clone();
    assert_eq!(summary.chains.len(), 2);
    assert_eq!(summary.executors.len(), 4);
    for chain in [ChainRef::L1, ChainRef::L2] {
        let outcome = devnet.create_task(chain, b"ponos".to_vec()).await.unwrap();
        assert_eq!(outcome.result.as_ref(), b"sonop");
        assert_eq!((outcome.signers, outcome.non_signers), (4, 0));
    }
    devnet.stop().await;
}

/// A performer image shaped like Hourglass's stock ones (it listens on `0.0.0.0:8080` whatever
/// the environment says, built `FROM scratch` here) serves four executors at once: each
/// container's port 8080 is published on its own loopback port.
#[tokio::test(flavor = "multi_thread")]
async fn four_executors_serve_an_image_on_a_fixed_container_port() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = workspace.join("target/performer");
    ponos_executor::docker::build_static_binary(&workspace, "executor-test-performer", &target)
        .await
        .expect("the test performers build");
    let binary = ponos_executor::docker::static_binary_path(&target, "fixed-port-performer");
    let docker = ponos_executor::docker::connect()
        .await
        .expect("a Docker daemon answers (run script/setup)");
    let image = "ponos-test/fixed-port-performer:devnet";
    ponos_executor::docker::build_image(&docker, &binary, image)
        .await
        .expect("the image builds");
    let config = DevnetConfig {
        l2: false,
        executors: 4,
        ..DevnetConfig::default()
    };
    let devnet = Devnet::start_with(config, PerformerRuntime::Docker(image.into()))
        .await
        .unwrap();
    for n in [7u32, 12] {
        let outcome = devnet
            .create_task(ChainRef::L1, n.to_string().into_bytes())
            .await
            .unwrap();
        assert_eq!(outcome.result.as_ref(), (n * n).to_string().as_bytes());
        assert_eq!((outcome.signers, outcome.non_signers), (4, 0));
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ecdsa_devnet_without_l2() {
    let config = DevnetConfig {
        curve: Curve::Ecdsa,
        l2: false,
        executors: 3,
        ..DevnetConfig::default()
    };
    let devnet = Devnet::start(config, Reverse).await.unwrap();
    let outcome = devnet
        .create_task(ChainRef::L1, vec![1, 2, 3])
        .await
        .unwrap();
    assert_eq!(outcome.result.as_ref(), [3, 2, 1]);
    assert_eq!(outcome.signers, 3);
    let error = devnet.create_task(ChainRef::L2, vec![1]).await.unwrap_err();
    assert!(error.to_string().contains("no L2"), "{error}");
    devnet.stop().await;
}

#[test]
fn devnet_up_task_create_and_down_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();

    // No devnet yet: one clear line, exit 1.
    let out = ponos(
        &[
            "task",
            "create",
            "--payload",
            "0x2a",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no devnet is running here"), "{stderr}");

    // In the background: returns once ready, with the summary.
    let up = ponos(
        &[
            "devnet",
            "up",
            "--runtime",
            "in-process",
            "--detach",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let summary = read_summary(&state).unwrap();
    assert!(String::from_utf8_lossy(&up.stdout).contains(&summary.avs.to_string()));

    let out = ponos(
        &[
            "task",
            "create",
            "--payload",
            "0x2a2b",
            "--chain",
            "l2",
            "--json",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["status"], "verified");
    assert_eq!(shown["result_hex"], "0x2a2b");
    assert_eq!(shown["chain_id"], 31338);

    // The ABI form: values encoded as the types say, the result decoded the same way.
    let out = ponos(
        &[
            "task",
            "create",
            "--abi",
            "uint256,string",
            "42",
            "hello",
            "--returns",
            "uint256,string",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("result     42, \"hello\""));

    // Both tasks are listed with their status; one is looked up by hash.
    let out = ponos(
        &["task", "list", "--json", "--state-dir", state_arg],
        |_| {},
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t["status"] == "verified"));
    let l2_task = listed.iter().find(|t| t["chain"] == "l2").unwrap()["task"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(l2_task, shown["task"].as_str().unwrap());
    let out = ponos(
        &[
            "task",
            "status",
            &l2_task,
            "--json",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(0));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["status"], "verified");
    assert_eq!(status["result_hex"], "0x2a2b");
    let unknown = format!("0x{}", "11".repeat(32));
    let out = ponos(
        &["task", "status", &unknown, "--state-dir", state_arg],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no task"));

    // The logs, by component.
    let out = ponos(
        &["devnet", "logs", "aggregator", "--state-dir", state_arg],
        |_| {},
    );
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("threshold met"), "{logs}");
    assert!(
        logs.lines().all(|l| l.contains("ponos::aggregator")),
        "{logs}"
    );
    let out = ponos(
        &["devnet", "logs", "executor", "--state-dir", state_arg],
        |_| {},
    );
    assert!(!out.stdout.is_empty());

    // Ports are checked before anything starts: the running L1's port is taken.
    let l1_port = summary.chains[0]
        .rpc_url
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let other = dir.path().join("other");
    let out = ponos(
        &[
            "devnet",
            "up",
            "--runtime",
            "in-process",
            "--l1-port",
            &l1_port,
            "--state-dir",
            other.to_str().unwrap(),
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("port {l1_port} for chain 31337 is taken")),
        "{stderr}"
    );

    // No Docker daemon where one is needed: one line that says so and what to do.
    let out = ponos(
        &[
            "devnet",
            "up",
            "--runtime",
            "docker",
            "--performer",
            "my-avs-performer:latest",
            "--state-dir",
            other.to_str().unwrap(),
        ],
        |cmd| {
            cmd.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
        },
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(error[0].contains("needs a Docker daemon"), "{stderr}");

    let out = ponos(
        &[
            "task",
            "create",
            "--payload",
            "0xnothex",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not hex"), "{stderr}");

    // A second devnet in the same state directory is refused.
    let out = ponos(
        &[
            "devnet",
            "up",
            "--runtime",
            "in-process",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already running"));

    let out = ponos(&["devnet", "down", "--state-dir", state_arg], |_| {});
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        read_summary(&state).is_err(),
        "the summary is gone after down"
    );
    let out = ponos(
        &[
            "task",
            "create",
            "--payload",
            "0x2a",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_devnet_forks_its_l1_from_another_chain() {
    // The chain forked from: another local anvil, with an account only it has funded.
    let upstream = Anvil::new().try_spawn().unwrap();
    let marked = address!("0x00000000000000000000000000000000000000aa");
    let provider = ProviderBuilder::new().connect_http(upstream.endpoint_url());
    let _: () = provider
        .raw_request("anvil_setBalance".into(), (marked, U256::from(4660)))
        .await
        .unwrap();

    let config = DevnetConfig {
        l2: false,
        fork_url: Some(upstream.endpoint()),
        ..DevnetConfig::default()
    };
    let devnet = Devnet::start(config, Reverse).await.unwrap();
    let balance = devnet.l1().provider().get_balance(marked).await.unwrap();
    assert_eq!(balance, U256::from(4660), "the L1 carries the forked state");
    assert_eq!(devnet.l1().id(), 31337);
    let outcome = devnet
        .create_task(ChainRef::L1, b"fork".to_vec())
        .await
        .unwrap();
    assert_eq!(outcome.result.as_ref(), b"krof");
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_bursts_of_500_tasks_all_verify_and_the_chain_clock_keeps_to_wall_time() {
    use ponos_chain::contracts::{TaskMailbox, task_mailbox};
    let config = DevnetConfig {
        l2: false,
        ..DevnetConfig::default()
    };
    let devnet = Devnet::start(config, Reverse).await.unwrap();
    let summary = devnet.summary().clone();
    let l1 = devnet.l1();
    let mailbox = TaskMailbox::new(l1.stack.task_mailbox, l1.provider());
    let mut all = Vec::new();
    for burst in 0..2 {
        let mut sent = Vec::new();
        for i in 0..500 {
            let params = task_mailbox::ITaskMailboxTypes::TaskParams {
                refundCollector: summary.task_creator,
                executorOperatorSet: task_mailbox::OperatorSet {
                    avs: summary.avs,
                    id: 1,
                },
                payload: format!("burst {burst} task {i}").into_bytes().into(),
            };
            let pending = mailbox
                .createTask(params)
                .from(summary.task_creator)
                .send()
                .await
                .unwrap();
            sent.push(*pending.tx_hash());
        }
        for tx in sent {
            // Automined, though the node may serve the receipt a moment after the hash.
            let receipt = loop {
                if let Some(receipt) = l1.provider().get_transaction_receipt(tx).await.unwrap() {
                    break receipt;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            };
            let created = receipt
                .inner
                .logs()
                .iter()
                .find_map(|log| log.log_decode::<TaskMailbox::TaskCreated>().ok())
                .unwrap();
            all.push(created.inner.data.taskHash);
        }
        // Every task of the burst verifies before its SLA runs out.
        let open =
            crate::unverified_after(&mailbox, &all, std::time::Duration::from_secs(110)).await;
        assert!(
            open.is_empty(),
            "burst {burst}: {} tasks not verified",
            open.len()
        );
    }
    assert_eq!(all.len(), 1000);
    let head = l1
        .provider()
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let ahead = head.header.timestamp as f64 - wall;
    eprintln!("1000/1000 verified; the L1 clock is {ahead:.1} s ahead of wall time");
    assert!(
        ahead < 5.0,
        "the L1 clock ran {ahead:.1} s ahead of wall time"
    );
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_devnet_leaves_nothing_behind_after_the_next_down() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let performer = ponos_executor::docker::build_static_binary(
        &workspace,
        "square-performer",
        &workspace.join("target/performer"),
    )
    .await
    .expect("the example performer builds");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let up = ponos(
        &[
            "devnet",
            "up",
            "--no-l2",
            "--runtime",
            "process",
            "--performer",
            performer.to_str().unwrap(),
            "--detach",
            "--state-dir",
            state_arg,
        ],
        |_| {},
    );
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let summary = read_summary(&state).unwrap();
    assert_eq!(summary.anvil_pids.len(), 1);
    let performers: Vec<u32> = children(summary.pid)
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains("square"))
        })
        .collect();
    assert_eq!(performers.len(), 4, "one performer per executor");

    // SIGKILL: nothing of the devnet's own shutdown runs.
    // SAFETY: kill(2) on the devnet process this test started.
    assert_eq!(unsafe { libc::kill(summary.pid as i32, libc::SIGKILL) }, 0);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while performers.iter().any(|p| alive(*p)) {
        assert!(
            std::time::Instant::now() < until,
            "performers outlived the devnet"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(alive(summary.anvil_pids[0]), "its anvil is left running");

    let down = ponos(&["devnet", "down", "--state-dir", state_arg], |_| {});
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert_eq!(down.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cleaned up 1 anvil process(es)"),
        "{stderr}"
    );
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(summary.anvil_pids[0]) {
        assert!(
            std::time::Instant::now() < until,
            "the anvil was not stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let again = ponos(&["devnet", "down", "--state-dir", state_arg], |_| {});
    assert_eq!(again.status.code(), Some(1), "nothing left to stop");
}

/// `ponos devnet up --avs 2` with the two AVSs described in ponos.toml (`[[devnet.avs]]`): one
/// BN254 and one ECDSA, each with its own performers (the same binary, told apart by their
/// environment). `ponos task create --avs` picks one; each task is answered by its own AVS's
/// performers and verified with all four signatures.
#[tokio::test(flavor = "multi_thread")]
async fn devnet_up_with_two_avss_serves_each_with_its_own_performers() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let performer = ponos_executor::docker::build_static_binary(
        &workspace,
        "executor-test-performer",
        &workspace.join("target/performer"),
    )
    .await
    .expect("the test performer builds");
    let performer = performer.canonicalize().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = ponos(
        &["new", "two-avs", "--dir", dir.path().to_str().unwrap()],
        |_| {},
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = dir.path().join("two-avs");
    let toml = std::fs::read_to_string(project.join("ponos.toml")).unwrap();
    // About performers, not contracts: the project names none, so Ponos's stand in.
    let (before, after) = toml
        .split_once("[contracts]\n")
        .expect("a [contracts] table");
    let rest = after
        .split_once("\n[")
        .map_or(String::new(), |(_, rest)| format!("[{rest}"));
    let mut toml = format!("{before}{rest}");
    toml.push_str(
        "\n[[devnet.avs]]\ncurve = \"bn254\"\nenv = { TEST_PERFORMER_TAG = \"first\" }\n\
         \n[[devnet.avs]]\ncurve = \"ecdsa\"\nenv = { TEST_PERFORMER_TAG = \"second\" }\n",
    );
    std::fs::write(project.join("ponos.toml"), toml).unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap().to_string();
    let root = project.to_str().unwrap().to_string();
    let performer_arg = performer.to_str().unwrap().to_string();
    let run = move |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--state-dir", &state_arg]);
        ponos(&all, |cmd| {
            cmd.current_dir(&root);
        })
    };
    // However the test ends, the devnet it started is stopped.
    struct Down<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["devnet", "down"]);
        }
    }
    let _down = Down(&run);

    let up = run(&[
        "devnet",
        "up",
        "--avs",
        "2",
        "--no-l2",
        "--performer",
        &performer_arg,
        "--detach",
    ]);
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let summary = read_summary(&state).unwrap();
    assert_eq!(summary.avss.len(), 2);
    assert_eq!(
        summary
            .avss
            .iter()
            .map(|a| a.curve.as_str())
            .collect::<Vec<_>>(),
        ["bn254", "ecdsa"]
    );
    assert_ne!(summary.avss[0].avs, summary.avss[1].avs);
    // Each executor runs one performer per AVS.
    let performers = children(summary.pid)
        .into_iter()
        .filter(|c| std::fs::read_link(format!("/proc/{c}/exe")).is_ok_and(|exe| exe == performer))
        .count();
    assert_eq!(
        performers,
        2 * summary.executors.len(),
        "two performers per executor"
    );

    for (selector, tag) in [("1", "first"), ("2", "second"), ("1", "first")] {
        let out = run(&[
            "task", "create", "--text", "ponos", "--avs", selector, "--json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(shown["status"], "verified", "{shown}");
        let expected = format!("0x{}", alloy::hex::encode(format!("{tag}:ponos")));
        assert_eq!(
            shown["result_hex"],
            expected.as_str(),
            "AVS {selector}: {shown}"
        );
        assert_eq!(shown["signers"], 4, "{shown}");
    }
    // By address too, and a wrong one is named.
    let second = summary.avss[1].avs.to_string();
    let out = run(&["task", "list", "--avs", &second, "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let out = run(&["task", "create", "--text", "x", "--avs", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("this devnet runs 2 AVS(s)"), "{stderr}");

    let down = run(&["devnet", "down"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}
