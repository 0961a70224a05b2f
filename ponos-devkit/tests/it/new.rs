//! `ponos new`, `ponos build`, then the new project's own tests: forge for its contracts, cargo
//! for its performer and its end-to-end devnet tests (anvil L1 and L2, tasks verified on both,
//! with the in-process performer and with the Docker image `ponos build` made). Then a devnet
//! from the command line in the project: its contracts and its static performer binary.

use std::{path::Path, process::Command};

use crate::ponos;

#[test]
fn a_new_project_passes_its_own_tests() {
    let dir = tempfile::tempdir().unwrap();
    let out = ponos(
        &["new", "price-oracle", "--dir", dir.path().to_str().unwrap()],
        |_| {},
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = dir.path().join("price-oracle");
    for file in [
        "ponos.toml",
        "performer/src/lib.rs",
        "contracts/src/PriceOracleTaskHook.sol",
        "contracts/src/PriceOracleRegistrar.sol",
        "Cargo.lock",
    ] {
        assert!(project.join(file).is_file(), "{file} was written");
    }

    // The name is taken now, and bad names are refused, each with one line.
    let again = ponos(
        &["new", "price-oracle", "--dir", dir.path().to_str().unwrap()],
        |_| {},
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = ponos(
        &["new", "9 lives", "--dir", dir.path().to_str().unwrap()],
        |_| {},
    );
    assert_eq!(bad.status.code(), Some(1));

    let forge = Command::new("forge")
        .arg("test")
        .current_dir(&project)
        .output()
        .expect("forge runs (script/setup installs it)");
    assert!(
        forge.status.success(),
        "forge test: {}{}",
        String::from_utf8_lossy(&forge.stdout),
        String::from_utf8_lossy(&forge.stderr)
    );

    // Contracts, the static performer and its image.
    let build = ponos(&["build", "--root", project.to_str().unwrap()], |_| {});
    assert!(
        build.status.success(),
        "ponos build: {}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let built = String::from_utf8_lossy(&build.stdout);
    assert!(
        built.contains("image: price-oracle-performer:latest"),
        "{built}"
    );

    // A target directory of its own inside Ponos' target: kept between runs, never locked by
    // the cargo that runs this test.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold");
    let cargo = Command::new(env!("CARGO"))
        .args(["test", "--offline", "--", "--include-ignored"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&project)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&cargo.stdout);
    assert!(
        cargo.status.success(),
        "cargo test in the new project: {stdout}{}",
        String::from_utf8_lossy(&cargo.stderr)
    );
    for test in [
        "tasks_on_l1_and_l2_are_verified ... ok",
        "tasks_on_l1_and_l2_are_verified_with_the_docker_performer ... ok",
    ] {
        assert!(stdout.contains(test), "{stdout}");
    }

    // From the command line, in the project: its registrar and task hook are deployed and its
    // performer binary runs; the hook counts the verified task.
    let state = dir.path().join("devnet");
    let state = state.to_str().unwrap();
    let root = project.to_str().unwrap();
    let up = ponos(
        &[
            "devnet",
            "up",
            "--runtime",
            "process",
            "--detach",
            "--no-l2",
            "--root",
            root,
            "--state-dir",
            state,
        ],
        |_| {},
    );
    let said = String::from_utf8_lossy(&up.stderr);
    assert_eq!(up.status.code(), Some(0), "{said}");
    assert!(
        said.contains("deploying PriceOracleRegistrar and PriceOracleTaskHook"),
        "{said}"
    );
    let task = ponos(
        &[
            "task",
            "create",
            "--payload",
            "0x37",
            "--json",
            "--state-dir",
            state,
        ],
        |_| {},
    );
    let shown: serde_json::Value = serde_json::from_slice(&task.stdout).unwrap();
    assert_eq!(shown["result_text"], "49");
    let summary = ponos_devkit::devnet::read_summary(Path::new(state)).unwrap();
    let counted = Command::new("cast")
        .args([
            "call",
            &summary.chains[0].task_hook.to_string(),
            "verifiedTasks()(uint256)",
            "--rpc-url",
            &summary.chains[0].rpc_url,
        ])
        .output()
        .expect("cast runs (script/setup installs it)");
    assert_eq!(String::from_utf8_lossy(&counted.stdout).trim(), "1");
    let down = ponos(&["devnet", "down", "--state-dir", state], |_| {});
    assert_eq!(down.status.code(), Some(0));
}

#[test]
fn project_commands_outside_a_project_say_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    for args in [
        vec!["build", "--root", root],
        vec!["deploy", "--network", "base", "--dry-run", "--root", root],
    ] {
        let out = ponos(&args, |_| {});
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("no ponos.toml"), "{args:?}: {stderr}");
        assert!(stderr.contains("ponos new"), "{args:?}: {stderr}");
    }
}
