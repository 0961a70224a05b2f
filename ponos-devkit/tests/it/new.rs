//! `ponos new`, `ponos build`, then the new project's own tests: forge for its contracts, cargo
//! for its performer and its end-to-end devnet tests through ponos-testkit (anvil L1 and L2,
//! tasks verified on both with the performer binary and with the Docker image `ponos build`
//! made, a refused task failing with its reason). Then a devnet from the command line in the
//! project: its contracts, its static performer binary, and every `task create` example the
//! help prints.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

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
        "contracts/lib/ponos/src/avs/TaskAVSRegistrarBase.sol",
        "package.json",
        "Cargo.lock",
    ] {
        assert!(project.join(file).is_file(), "{file} was written");
    }
    // Nothing the project would commit names a path outside it: only the git-ignored cargo
    // configuration names the Ponos checkout.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap();
    let ignored = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    for file in committed_files(&project, &project, &ignored) {
        let text = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&text);
        assert!(
            !text.contains(checkout.to_str().unwrap())
                && !text.contains(dir.path().to_str().unwrap()),
            "{} names an absolute path",
            file.display()
        );
    }
    let local = std::fs::read_to_string(project.join(".cargo/config.toml")).unwrap();
    assert!(local.contains(checkout.to_str().unwrap()), "{local}");

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

    // Its contracts are not compiled yet: a devnet refuses to stand Ponos's in for them.
    let state = tempfile::tempdir().unwrap();
    let early = ponos(
        &[
            "devnet",
            "up",
            "--detach",
            "--root",
            project.to_str().unwrap(),
            "--state-dir",
            state.path().to_str().unwrap(),
        ],
        |_| {},
    );
    let stderr = String::from_utf8_lossy(&early.stderr);
    assert_eq!(early.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the project's contracts:") && stderr.contains("`ponos build`"),
        "{stderr}"
    );

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
        .env("PONOS", env!("CARGO_BIN_EXE_ponos"))
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
        "a_task_the_performer_refuses_fails_with_its_reason ... ok",
        "squares_text_and_abi_numbers_and_refuses_the_rest ... ok",
    ] {
        assert!(stdout.contains(test), "{stdout}");
    }

    // From the command line, in the project: its registrar and task hook are deployed and its
    // performer binary runs; the hook counts the verified task.
    let state = dir.path().join("devnet");
    let state = state.to_str().unwrap();
    let root = project.to_str().unwrap();
    let said = devnet_up(root, state, &["--runtime", "process"]);
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
    // A payload the performer refuses: the fate is known at once, with the performer's words.
    let started = Instant::now();
    let refused = ponos(
        &[
            "task",
            "create",
            "--text",
            "seven",
            "--json",
            "--state-dir",
            state,
        ],
        |_| {},
    );
    let took = started.elapsed();
    assert_eq!(refused.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(report["status"], "failed", "{report}");
    let reasons = report["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 4, "{report}");
    assert!(
        reasons
            .iter()
            .all(|r| r.as_str().unwrap().contains("must be a decimal number")),
        "{report}"
    );
    assert!(took < Duration::from_secs(2), "the refusal took {took:?}");
    let status = ponos(
        &[
            "task",
            "status",
            report["task"].as_str().unwrap(),
            "--json",
            "--state-dir",
            state,
        ],
        |_| {},
    );
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["status"], "failed");
    assert_eq!(status["reasons"], report["reasons"]);

    // Every example `ponos task create --help` prints works on the project as generated.
    std::fs::write(project.join("input.txt"), "7").unwrap();
    let help = ponos(&["task", "create", "--help"], |_| {});
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let examples: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Examples:"))
        .filter_map(|l| l.trim().strip_prefix("ponos "))
        .collect();
    assert!(examples.len() >= 4, "{help}");
    for example in examples {
        let example = example.split(" #").next().unwrap();
        let mut args = shell_words(example);
        args.extend(["--state-dir".into(), state.into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ponos(&args, |cmd| {
            cmd.current_dir(&project);
        });
        assert_eq!(
            out.status.code(),
            Some(0),
            "ponos {example}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("49"), "ponos {example}: {said}");
    }
    // A performer rebuilt after the devnet started: every task says the devnet serves the old one.
    let binary =
        project.join("target/performer/x86_64-unknown-linux-gnu/release/price-oracle-performer");
    // (Read-only: a running executable cannot be opened for writing; its owner may still set
    // its times.)
    std::fs::File::open(&binary)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let stale = ponos(
        &[
            "task",
            "create",
            "--text",
            "3",
            "--json",
            "--state-dir",
            state,
        ],
        |_| {},
    );
    let stale: serde_json::Value = serde_json::from_slice(&stale.stdout).unwrap();
    assert_eq!(stale["result_text"], "9");
    assert!(
        stale["warnings"][0]
            .as_str()
            .unwrap()
            .contains("still runs the old build"),
        "{stale}"
    );

    // The edit loop by hand: square → cube, `ponos devnet reload` rebuilds and swaps it in on the
    // running devnet; the next task gets the new answer and no warning.
    let lib = project.join("performer/src/lib.rs");
    let square = std::fs::read_to_string(&lib).unwrap();
    let cube = square.replace(
        ".checked_mul(n)\n",
        ".checked_mul(n)\n            .and_then(|square| square.checked_mul(n))\n",
    );
    assert_ne!(cube, square, "the performer squares with checked_mul");
    std::fs::write(&lib, &cube).unwrap();
    devnet_reload(root, state, 2);
    let cubed = create_json(state, "3");
    assert_eq!(cubed["result_text"], "27", "{cubed}");
    assert_eq!(cubed["warnings"], serde_json::json!([]), "{cubed}");
    devnet_down(state);

    // The edit loop on every save: `devnet up --watch`. A save that does not compile leaves the
    // running build serving; the next good save is swapped in.
    devnet_up(root, state, &["--watch", "--no-l2"]);
    let log = Path::new(state).join("devnet.log");
    std::fs::write(&lib, cube.replace("fn handle_task", "fn handle_task(")).unwrap();
    wait_for_line(&log, "performer build failed");
    assert_eq!(create_json(state, "3")["result_text"], "27");
    std::fs::write(&lib, &square).unwrap();
    wait_for_line(&log, "performer reloaded generation=2");
    let squared = create_json(state, "3");
    assert_eq!(squared["result_text"], "9", "{squared}");
    assert_eq!(squared["warnings"], serde_json::json!([]), "{squared}");
    devnet_down(state);

    // Docker performers: a reload rebuilds the image and swaps in new containers, and what the
    // containers write is in `devnet logs performer`.
    devnet_up(root, state, &["--runtime", "docker", "--no-l2"]);
    assert_eq!(create_json(state, "3")["result_text"], "9");
    let talking = cube.replace(
        "let n = number.value();",
        "let n = number.value();\n        eprintln!(\"cubing {n}\");",
    );
    assert_ne!(talking, cube);
    std::fs::write(&lib, &talking).unwrap();
    devnet_reload(root, state, 2);
    assert_eq!(create_json(state, "3")["result_text"], "27");
    wait_for_line(&log, "cubing 3");
    let logs = ponos(
        &["devnet", "logs", "performer", "--state-dir", state],
        |_| {},
    );
    let logs = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.lines()
            .any(|l| l.contains("ponos::performer") && l.contains("cubing 3")),
        "{logs}"
    );
    devnet_down(state);
    std::fs::write(&lib, &square).unwrap();
}

/// `ponos devnet up --detach ARGS` for the project at `root`, which must start; what it said.
fn devnet_up(root: &str, state: &str, args: &[&str]) -> String {
    let mut all = vec![
        "devnet",
        "up",
        "--detach",
        "--root",
        root,
        "--state-dir",
        state,
    ];
    all.extend_from_slice(args);
    let up = ponos(&all, |_| {});
    let said = String::from_utf8_lossy(&up.stderr).into_owned();
    assert_eq!(up.status.code(), Some(0), "devnet up {args:?}: {said}");
    said
}

/// `ponos devnet reload`, which must put performer `generation` on all four executors.
fn devnet_reload(root: &str, state: &str, generation: u64) {
    let reload = ponos(
        &["devnet", "reload", "--root", root, "--state-dir", state],
        |_| {},
    );
    let said = String::from_utf8_lossy(&reload.stderr);
    assert_eq!(reload.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "performer generation {generation} serving on 4 executors"
        )),
        "{said}"
    );
}

/// `ponos devnet down`, which must stop the devnet in `state`.
fn devnet_down(state: &str) {
    let down = ponos(&["devnet", "down", "--state-dir", state], |_| {});
    assert_eq!(
        down.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}

/// `ponos task create --text TEXT --json` on the devnet in `state`, as JSON.
fn create_json(state: &str, text: &str) -> serde_json::Value {
    let out = ponos(
        &[
            "task",
            "create",
            "--text",
            text,
            "--json",
            "--state-dir",
            state,
        ],
        |_| {},
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "task create: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Waits until `log` has a line containing `needle` (a rebuild takes seconds; the bound is
/// only there so a broken watcher fails the test instead of hanging it).
fn wait_for_line(log: &Path, needle: &str) {
    let until = Instant::now() + Duration::from_secs(300);
    while !std::fs::read_to_string(log).is_ok_and(|text| text.contains(needle)) {
        assert!(
            Instant::now() < until,
            "no `{needle}` in {}: {}",
            log.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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

/// The files under `dir` a `git add .` in `root` would take, by the `.gitignore` patterns
/// `ponos new` writes (anchored paths only).
fn committed_files(root: &Path, dir: &Path, ignored: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = format!("/{}", path.strip_prefix(root).unwrap().display());
        if ignored.lines().any(|pattern| pattern == relative) || relative == "/.git" {
            continue;
        }
        if path.is_dir() {
            files.extend(committed_files(root, &path, ignored));
        } else {
            files.push(path);
        }
    }
    files
}

/// Splits a command line as a shell would for the examples (double quotes, no escapes).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
