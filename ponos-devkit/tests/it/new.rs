//! `ponos new`, then the new project's own tests: forge for its contracts, cargo for its
//! performer and its end-to-end devnet test (anvil L1 and L2, tasks verified on both).

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

    // A target directory of its own inside Ponos' target: kept between runs, never locked by
    // the cargo that runs this test.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/scaffold");
    let cargo = Command::new(env!("CARGO"))
        .args(["test", "--offline"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&project)
        .output()
        .expect("cargo runs");
    assert!(
        cargo.status.success(),
        "cargo test in the new project: {}{}",
        String::from_utf8_lossy(&cargo.stdout),
        String::from_utf8_lossy(&cargo.stderr)
    );
    let stdout = String::from_utf8_lossy(&cargo.stdout);
    assert!(
        stdout.contains("tasks_on_l1_and_l2_are_verified ... ok"),
        "{stdout}"
    );
}
