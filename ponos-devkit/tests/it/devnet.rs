//! The devnet as a library (what an AVS's tests use) and through `ponos devnet` and
//! `ponos task`, on real anvil chains with real gRPC executors.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use ponos_devkit::devnet::{ChainRef, Curve, Devnet, DevnetConfig, read_summary};

use crate::{Reverse, ponos};

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

    let mut up = Command::new(env!("CARGO_BIN_EXE_ponos"))
        .args([
            "devnet",
            "up",
            "--runtime",
            "in-process",
            "--state-dir",
            state_arg,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while read_summary(&state).is_err() {
        assert!(up.try_wait().unwrap().is_none(), "devnet up exited early");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not ready in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

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
    assert!(up.wait().unwrap().success());
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
