//! `ponos keys`: keystores for every curve, round trips, and the mistakes users make.

use crate::ponos;

#[test]
fn keystores_round_trip_and_a_wrong_password_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let keys = keys.to_str().unwrap();
    let with_password = |cmd: &mut std::process::Command| {
        cmd.env("PONOS_KEYSTORE_PASSWORD", "correct horse");
    };
    for key_type in ["bn254", "ecdsa", "bls381"] {
        let out = ponos(
            &[
                "keys",
                "new",
                "--type",
                key_type,
                "--name",
                "op",
                "--dir",
                keys,
                "--insecure-fast-kdf",
            ],
            with_password,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Readable by their owner only, in a directory only their owner can list.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(std::path::Path::new(keys)), 0o700);
        for entry in std::fs::read_dir(keys).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    let listed = ponos(&["keys", "list", "--dir", keys, "--json"], |_| {});
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let curves: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["curve"].as_str().unwrap())
        .collect();
    assert_eq!(curves, ["bls381", "bn254", "ecdsa"]);

    // Import a known key, export it back.
    let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let out = ponos(
        &[
            "keys",
            "import",
            "--type",
            "ecdsa",
            "--name",
            "known",
            "--dir",
            keys,
            "--insecure-fast-kdf",
        ],
        |cmd| {
            with_password(cmd);
            cmd.env("PRIVATE_KEY", secret);
        },
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    );
    let file = format!("{keys}/known.ecdsa.json");
    let out = ponos(&["keys", "export", &file], with_password);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), secret);

    let out = ponos(&["keys", "export", &file], |cmd| {
        cmd.env("PONOS_KEYSTORE_PASSWORD", "wrong");
    });
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim(), format!("error: wrong password for {file}"));

    // No password set, and a name taken: one line each, exit 1.
    let out = ponos(
        &[
            "keys", "new", "--type", "ecdsa", "--name", "x", "--dir", keys,
        ],
        |cmd| {
            cmd.env_remove("PONOS_KEYSTORE_PASSWORD");
        },
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PONOS_KEYSTORE_PASSWORD"));
    let out = ponos(
        &[
            "keys",
            "new",
            "--type",
            "ecdsa",
            "--name",
            "known",
            "--dir",
            keys,
            "--insecure-fast-kdf",
        ],
        with_password,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}
