//! `ponos deploy` against a real anvil chain with Base's chain id (8453): refused without
//! EigenLayer, deployed with `--sandbox`, resumed from its journal after being killed mid-step,
//! and then serving a task end to end (executors and aggregator on the deployed contracts).

use std::{
    net::TcpListener as StdListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::{
    network::EthereumWallet,
    primitives::{B256, Bytes},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use alloy_node_bindings::Anvil;
use ponos_aggregator::session::{AggregatorIdentity, AggregatorSigner};
use ponos_crypto::ecdsa;
use ponos_devkit::{
    deploy::{Journal, SandboxOperators, StepStatus},
    devnet::start_aggregator,
};
use ponos_devnet::{Chain, Curve, LocalExecutor};

use crate::{Reverse, ponos};

/// `ponos new`, then its contracts compiled (what `ponos build` does first).
pub(crate) fn compiled_project(dir: &Path, name: &str) -> PathBuf {
    compiled_project_with(dir, name, &[])
}

/// `ponos new` with `args`, then its contracts compiled.
pub(crate) fn compiled_project_with(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let mut new = vec!["new", name, "--dir", dir.to_str().unwrap()];
    new.extend_from_slice(args);
    let out = ponos(&new, |_| {});
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = dir.join(name);
    let forge = Command::new("forge")
        .arg("build")
        .current_dir(&project)
        .output()
        .expect("forge runs (script/setup installs it)");
    assert!(
        forge.status.success(),
        "{}",
        String::from_utf8_lossy(&forge.stderr)
    );
    project
}

fn deploy_command(project: &Path, url: &str, key: B256, sockets: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ponos"));
    cmd.args([
        "deploy",
        "--network",
        "base",
        "--sandbox",
        "--rpc-url",
        url,
        "--operator-sockets",
        sockets,
        "--root",
        project.to_str().unwrap(),
    ])
    .env("PRIVATE_KEY", key.to_string())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Mines a block at a time (the chain does not mine by itself) until `done` says so.
async fn mine_until(provider: &DynProvider, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < until, "the deploy did not get there");
        let _: String = provider.raw_request("evm_mine".into(), ()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mines while the deployer has a transaction waiting and the journal does not yet hold the
/// stack. The journal records the stack before the next step sends anything, so a transaction
/// seen waiting while the stack is not recorded is one of the stack's: mining it never mines
/// the task hook's. Returns once the stack is recorded.
async fn mine_the_stack(
    provider: &DynProvider,
    deployer: alloy::primitives::Address,
    journal: &Path,
    child: &mut Child,
) {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < until, "the stack did not land");
        assert!(!exited(child), "the deploy ended early");
        let waiting = provider
            .get_transaction_count(deployer)
            .pending()
            .await
            .unwrap()
            > provider.get_transaction_count(deployer).await.unwrap();
        if waiting {
            if Journal::load(journal)
                .ok()
                .flatten()
                .is_some_and(|j| j.is_done("stack"))
            {
                return;
            }
            let _: String = provider.raw_request("evm_mine".into(), ()).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn exited(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_deploy_to_a_base_chain_resumes_after_a_kill_and_serves_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let project = compiled_project(dir.path(), "oracle-avs");
    // Blocks are mined by the test, so a deploy can be caught between sending and landing.
    let anvil = Anvil::new()
        .chain_id(8453)
        .arg("--no-mining")
        .try_spawn()
        .expect("anvil runs (script/setup installs it)");
    let url = anvil.endpoint();
    let key = B256::from_slice(&anvil.keys()[0].to_bytes());
    let provider = ProviderBuilder::new()
        .connect_http(anvil.endpoint_url())
        .erased();

    // EigenLayer is not on this chain: refused, with the way out named.
    let refused = ponos(
        &[
            "deploy",
            "--network",
            "base",
            "--rpc-url",
            &url,
            "--root",
            project.to_str().unwrap(),
        ],
        |cmd| {
            cmd.env("PRIVATE_KEY", key.to_string());
        },
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("EigenLayer is not deployed on chain 8453"),
        "{stderr}"
    );
    assert!(stderr.contains("--sandbox"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        !Journal::path(&project, "base").exists(),
        "nothing was recorded"
    );

    // Four executors' listeners; their sockets are what the operators register.
    let listeners: Vec<StdListener> = (0..4)
        .map(|_| StdListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let sockets = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(",");

    // Killed once the stack is in and the task hook's transaction is sent but not mined.
    let journal_path = Journal::path(&project, "base");
    let mut first = deploy_command(&project, &url, key, &sockets)
        .spawn()
        .unwrap();
    mine_the_stack(&provider, anvil.addresses()[0], &journal_path, &mut first).await;
    let until = Instant::now() + Duration::from_secs(30);
    while !Journal::load(&journal_path)
        .unwrap()
        .unwrap()
        .step("task-hook")
        .is_some_and(|s| s.status == StepStatus::Sent)
    {
        assert!(Instant::now() < until, "the task hook was never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let interrupted = Journal::load(&journal_path).unwrap().unwrap();
    let pending = interrupted.step("task-hook").unwrap().tx.unwrap();

    // Run again: the stack is not redeployed, the sent transaction is awaited, not resent.
    let mut second = deploy_command(&project, &url, key, &sockets)
        .spawn()
        .unwrap();
    mine_until(&provider, || exited(&mut second)).await;
    let output = second.wait_with_output().unwrap();
    // Progress goes to stderr; stdout carries what was deployed.
    let progress = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{progress}");
    assert!(
        progress.contains("stack (sandbox): done earlier (journal)"),
        "{progress}"
    );
    assert!(
        stdout.starts_with("deployed:") && !stdout.contains("done earlier"),
        "{stdout}"
    );
    let journal = Journal::load(&journal_path).unwrap().unwrap();
    assert_eq!(journal.stack, interrupted.stack);
    assert_eq!(journal.step("task-hook").unwrap().tx, Some(pending));
    assert_eq!(
        journal
            .steps
            .iter()
            .filter(|s| !s.name.contains('/'))
            .count(),
        11,
        "eleven steps"
    );
    // The registrations, one journaled transaction each: four operators funded, keyed and
    // joined, the aggregator keyed and joined, the weights set, the table pushed.
    assert_eq!(
        journal
            .steps
            .iter()
            .filter(|s| s.name.contains('/'))
            .count(),
        4 * 3 + 2 + 2
    );
    assert!(journal.steps.iter().all(|s| s.status == StepStatus::Done));

    // A third run has nothing left to do.
    let again = deploy_command(&project, &url, key, &sockets)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stderr)
            .matches("done earlier (journal)")
            .count(),
        11
    );

    // Serve the deployed AVS: executors with the sandbox operators' keys, the deployer as the
    // aggregator; a task created on the chain is verified.
    let _: () = provider
        .raw_request("evm_setAutomine".into(), (true,))
        .await
        .unwrap();
    let stack = journal.stack.unwrap();
    let avs = journal.deployer;
    let signer = PrivateKeySigner::from_bytes(&key).unwrap();
    let chain = Chain {
        chain_id: 8453,
        provider: ProviderBuilder::new()
            .wallet(EthereumWallet::new(signer))
            .connect_http(anvil.endpoint_url())
            .erased(),
        stack,
    };
    let operators = SandboxOperators::load(&SandboxOperators::path(&project, "base"))
        .unwrap()
        .unwrap();
    let mut executors = Vec::new();
    for (listener, operator) in listeners.into_iter().zip(&operators.operators) {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        executors.push(
            LocalExecutor::start(
                listener,
                &chain,
                avs,
                operator.address,
                operator.key(Curve::Bn254).unwrap(),
                Reverse,
            )
            .await
            .unwrap(),
        );
    }
    let aggregator = start_aggregator(
        &chain,
        &[(&chain, None)],
        vec![avs],
        AggregatorIdentity {
            address: avs,
            key: AggregatorSigner::Ecdsa(ecdsa::SecretKey::from_bytes(key.as_slice()).unwrap()),
        }
        .into(),
        PrivateKeySigner::from_bytes(&key).unwrap(),
    )
    .await
    .unwrap();
    let task = chain
        .create_task(avs, avs, Bytes::from_static(b"deployed"))
        .await
        .unwrap();
    let (_, result) = chain
        .wait_verified(task, Duration::from_secs(30), Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(result.as_ref(), b"deyolped");
    aggregator.shutdown(Duration::from_secs(1)).await;
}
