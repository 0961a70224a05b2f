//! `ponos doctor` against the real tools of this machine (installed by `script/setup`).

use crate::ponos;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn ready_machine_prints_every_version_and_exits_zero() {
    let output = ponos(&["doctor", "--root", env!("CARGO_MANIFEST_DIR")], |_| {});
    let text = stdout(&output);
    assert!(
        output.status.success(),
        "doctor failed on a machine set up by script/setup:\n{text}"
    );
    for tool in ["anvil", "forge", "cast", "solc", "docker"] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(tool));
        let line = line.unwrap_or_else(|| panic!("no line for {tool}:\n{text}"));
        assert!(line.starts_with("ok"), "{tool} not ready: {line}");
    }
    assert!(text.contains("1.7."), "Foundry version printed:\n{text}");
    assert!(
        text.contains("0.8.30"),
        "the solc version foundry.toml pins:\n{text}"
    );
}

#[test]
fn stopped_docker_names_the_fix_and_exits_nonzero() {
    let dir = tempfile_dir();
    let socket = format!("unix://{}/docker.sock", dir.display());
    let output = ponos(&["doctor"], |cmd| {
        cmd.env("DOCKER_HOST", &socket);
    });
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit code with no daemon:\n{text}"
    );
    let missing = text
        .lines()
        .position(|l| l.starts_with("MISSING  docker"))
        .expect("docker reported missing");
    assert!(
        text.lines().nth(missing).unwrap().contains(&socket),
        "names the socket it tried:\n{text}"
    );
    let fix = text.lines().nth(missing + 1).expect("a fix line follows");
    assert!(
        fix.trim_start().starts_with("fix: ") && fix.contains("dockerd"),
        "fix names dockerd: {fix}"
    );
}

#[test]
fn missing_foundry_prints_the_install_command() {
    // A PATH with none of the Foundry tools on it.
    let output = ponos(&["doctor", "--json"], |cmd| {
        cmd.env("PATH", "/nonexistent");
    });
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["ok"], false);
    let forge = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "forge")
        .unwrap();
    assert_eq!(forge["ok"], false);
    assert!(
        forge["fix"]
            .as_str()
            .unwrap()
            .contains("@foundry-rs/forge-linux-amd64@1.7.1"),
        "{forge}"
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ponos-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
