//! `ponos new`: scaffolds an AVS project from the templates embedded in the binary.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use handlebars::Handlebars;
use serde::Serialize;

/// The project templates: (path in `templates/avs`, output path, contents). Output paths may
/// name the AVS's type.
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "Cargo.toml",
        "Cargo.toml",
        include_str!("../../../templates/avs/Cargo.toml.hbs"),
    ),
    (
        "README.md",
        "README.md",
        include_str!("../../../templates/avs/README.md.hbs"),
    ),
    (
        "gitignore",
        ".gitignore",
        include_str!("../../../templates/avs/gitignore.hbs"),
    ),
    (
        "package.json",
        "package.json",
        include_str!("../../../templates/avs/package.json.hbs"),
    ),
    (
        "foundry.toml",
        "foundry.toml",
        include_str!("../../../templates/avs/foundry.toml.hbs"),
    ),
    (
        "ponos.toml",
        "ponos.toml",
        include_str!("../../../templates/avs/ponos.toml.hbs"),
    ),
    (
        "performer/Cargo.toml",
        "performer/Cargo.toml",
        include_str!("../../../templates/avs/performer/Cargo.toml.hbs"),
    ),
    (
        "performer/src/lib.rs",
        "performer/src/lib.rs",
        include_str!("../../../templates/avs/performer/src/lib.rs.hbs"),
    ),
    (
        "performer/src/main.rs",
        "performer/src/main.rs",
        include_str!("../../../templates/avs/performer/src/main.rs.hbs"),
    ),
    (
        "performer/tests/devnet.rs",
        "performer/tests/devnet.rs",
        include_str!("../../../templates/avs/performer/tests/devnet.rs.hbs"),
    ),
    (
        "contracts/src/TaskHook.sol",
        "contracts/src/{{type_name}}TaskHook.sol",
        include_str!("../../../templates/avs/contracts/src/TaskHook.sol.hbs"),
    ),
    (
        "contracts/src/Registrar.sol",
        "contracts/src/{{type_name}}Registrar.sol",
        include_str!("../../../templates/avs/contracts/src/Registrar.sol.hbs"),
    ),
    (
        "contracts/test/TaskHook.t.sol",
        "contracts/test/{{type_name}}TaskHook.t.sol",
        include_str!("../../../templates/avs/contracts/test/TaskHook.t.sol.hbs"),
    ),
];

/// The machine-local cargo configuration that builds against a Ponos checkout.
const CARGO_CONFIG: &str = include_str!("../../../templates/avs/cargo-config.toml.hbs");

/// The Ponos contracts an AVS builds on, copied into `contracts/lib/ponos` (path there, text).
const PONOS_CONTRACTS: &[(&str, &str)] = &[
    (
        "src/interfaces/IAVSRegistrar.sol",
        include_str!("../../../contracts/src/interfaces/IAVSRegistrar.sol"),
    ),
    (
        "src/interfaces/IAVSTaskHook.sol",
        include_str!("../../../contracts/src/interfaces/IAVSTaskHook.sol"),
    ),
    (
        "src/interfaces/IAllocationManager.sol",
        include_str!("../../../contracts/src/interfaces/IAllocationManager.sol"),
    ),
    (
        "src/interfaces/IBN254CertificateVerifier.sol",
        include_str!("../../../contracts/src/interfaces/IBN254CertificateVerifier.sol"),
    ),
    (
        "src/interfaces/IBaseCertificateVerifier.sol",
        include_str!("../../../contracts/src/interfaces/IBaseCertificateVerifier.sol"),
    ),
    (
        "src/interfaces/IECDSACertificateVerifier.sol",
        include_str!("../../../contracts/src/interfaces/IECDSACertificateVerifier.sol"),
    ),
    (
        "src/interfaces/IKeyRegistrar.sol",
        include_str!("../../../contracts/src/interfaces/IKeyRegistrar.sol"),
    ),
    (
        "src/interfaces/IOperatorTableCalculator.sol",
        include_str!("../../../contracts/src/interfaces/IOperatorTableCalculator.sol"),
    ),
    (
        "src/interfaces/IOperatorTableUpdater.sol",
        include_str!("../../../contracts/src/interfaces/IOperatorTableUpdater.sol"),
    ),
    (
        "src/interfaces/ISignatureUtilsMixin.sol",
        include_str!("../../../contracts/src/interfaces/ISignatureUtilsMixin.sol"),
    ),
    (
        "src/interfaces/ITaskAVSRegistrarBase.sol",
        include_str!("../../../contracts/src/interfaces/ITaskAVSRegistrarBase.sol"),
    ),
    (
        "src/interfaces/ITaskMailbox.sol",
        include_str!("../../../contracts/src/interfaces/ITaskMailbox.sol"),
    ),
    (
        "src/libraries/BN254.sol",
        include_str!("../../../contracts/src/libraries/BN254.sol"),
    ),
    (
        "src/libraries/OperatorSetLib.sol",
        include_str!("../../../contracts/src/libraries/OperatorSetLib.sol"),
    ),
    (
        "src/avs/TaskAVSRegistrarBase.sol",
        include_str!("../../../contracts/src/avs/TaskAVSRegistrarBase.sol"),
    ),
    (
        "test/utils/Test.sol",
        include_str!("../../../contracts/test/utils/Test.sol"),
    ),
];

/// Create a new AVS project (performer, contracts, tests, ponos.toml).
///
/// The project holds a performer crate on the Ponos SDK with end-to-end devnet tests, the AVS's
/// contracts (a task hook and an operator registrar) with forge tests, and `ponos.toml`.
///
/// The project is self-contained: it names no path outside itself in any file it commits. The
/// Ponos contracts it builds on are copied into `contracts/lib/ponos`, OpenZeppelin comes from
/// npm (`package.json`), and the Ponos crates from crates.io; until those are published, a
/// machine-local `.cargo/config.toml` (git-ignored) points cargo at a Ponos checkout.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ponos new my-avs\n  ponos new my-avs --curve ecdsa --dir ~/code\n  ponos new my-avs --ponos-path ~/src/ponos     # build against this checkout"
)]
pub(crate) struct NewArgs {
    /// The AVS's name: letters, digits and dashes, starting with a letter (e.g. my-avs).
    name: String,
    /// The curve of the executor operator set.
    #[arg(long, value_enum, default_value = "bn254")]
    curve: CurveArg,
    /// The directory to create the project in.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// A Ponos checkout to build the Ponos crates from (named in the git-ignored
    /// .cargo/config.toml only). Default: the checkout this `ponos` was built from, if any.
    #[arg(long, env = "PONOS_PATH", conflicts_with = "crates_io")]
    ponos_path: Option<PathBuf>,
    /// Use the Ponos crates published on crates.io, with no local checkout.
    #[arg(long)]
    crates_io: bool,
    /// Do not install the contract libraries with npm now (`ponos build` does it later).
    #[arg(long)]
    no_install: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CurveArg {
    Bn254,
    Ecdsa,
}

#[derive(Debug, Serialize)]
struct Context {
    name: String,
    crate_name: String,
    crate_ident: String,
    type_name: String,
    curve: &'static str,
    ponos_path: String,
}

/// Checks a project name and derives the identifiers the templates use.
fn context(name: &str, curve: &'static str, ponos_path: Option<&Path>) -> Result<Context, String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "{name:?} is not a valid AVS name: use letters, digits and dashes, starting with a letter (e.g. my-avs)"
        ));
    }
    let crate_name = name.to_ascii_lowercase().replace('_', "-");
    let type_name = crate_name
        .split('-')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    Ok(Context {
        name: name.to_owned(),
        crate_ident: crate_name.replace('-', "_"),
        crate_name,
        type_name,
        curve,
        ponos_path: ponos_path
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    })
}

/// Writes `body` to `path`, creating its directory.
fn write_file(path: &Path, body: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, body).map_err(|e| format!("{}: {e}", path.display()))
}

/// Renders every template into `root`, copies the Ponos contracts into `contracts/lib/ponos`,
/// and, with a checkout, writes the machine-local cargo configuration.
fn render(root: &Path, context: &Context, checkout: bool) -> Result<Vec<PathBuf>, String> {
    let mut engine = Handlebars::new();
    engine.register_escape_fn(handlebars::no_escape);
    engine.set_strict_mode(true);
    let mut written = Vec::new();
    let mut templates: Vec<(&str, &str, &str)> = TEMPLATES.to_vec();
    if checkout {
        templates.push(("cargo-config.toml", ".cargo/config.toml", CARGO_CONFIG));
    }
    for (source, target, text) in templates {
        let target = engine
            .render_template(target, context)
            .map_err(|e| format!("template {source}: {e}"))?;
        let body = engine
            .render_template(text, context)
            .map_err(|e| format!("template {source}: {e}"))?;
        let path = root.join(target);
        write_file(&path, &body)?;
        written.push(path);
    }
    for (path, text) in PONOS_CONTRACTS {
        let path = root.join("contracts/lib/ponos").join(path);
        write_file(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// The Ponos checkout to build against: the one given, else the one this binary was built
/// from when it is still there, else none (crates.io).
fn checkout(given: Option<PathBuf>, crates_io: bool) -> Result<Option<PathBuf>, String> {
    if crates_io {
        return Ok(None);
    }
    let explicit = given.is_some();
    let path = given.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    let is_checkout = |p: &Path| p.join("runtime/performer/Cargo.toml").is_file();
    match path.canonicalize() {
        Ok(path) if is_checkout(&path) => Ok(Some(path)),
        _ if explicit => Err(format!(
            "{} is not a Ponos checkout (no runtime/performer/Cargo.toml); pass the checkout's root to --ponos-path",
            path.display()
        )),
        _ => Ok(None),
    }
}

impl NewArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self.create().await {
            Ok(()) => Ok(0),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(1)
            }
        }
    }

    async fn create(self) -> Result<(), String> {
        let checkout = checkout(self.ponos_path, self.crates_io)?;
        let curve = match self.curve {
            CurveArg::Bn254 => "bn254",
            CurveArg::Ecdsa => "ecdsa",
        };
        let context = context(&self.name, curve, checkout.as_deref())?;
        let root = self.dir.join(&self.name);
        if root.exists() {
            return Err(format!(
                "{} already exists; pick another name or --dir",
                root.display()
            ));
        }
        let files = render(&root, &context, checkout.is_some())?;
        if let Some(checkout) = &checkout {
            // Start from the dependency versions this Ponos checkout is tested with.
            let lock = checkout.join("Cargo.lock");
            if lock.is_file() {
                std::fs::copy(&lock, root.join("Cargo.lock"))
                    .map_err(|e| format!("copying {}: {e}", lock.display()))?;
            }
        }
        println!(
            "created {} ({} files, {curve} executor set)",
            root.display(),
            files.len()
        );
        match &checkout {
            Some(path) => println!(
                "ponos crates: from {} (machine-local .cargo/config.toml)",
                path.display()
            ),
            None => println!("ponos crates: from crates.io"),
        }
        if !self.no_install {
            // The project builds without it (`ponos build` installs it), so a failure here is
            // a note, not an error.
            if let Err(message) = super::build::install_contract_libraries(&root).await {
                eprintln!("note: {message}; `ponos build` tries again");
            }
        }
        println!("next:");
        println!("  cd {}", root.display());
        println!("  ponos build       # contracts, the performer binary and its image");
        println!("  cargo test        # the performer, and the AVS end to end on a devnet");
        println!("  forge test        # the contracts");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_identifiers_and_bad_names_are_refused() {
        let c = context("my-avs", "bn254", None).unwrap();
        assert_eq!(
            (
                c.crate_name.as_str(),
                c.crate_ident.as_str(),
                c.type_name.as_str()
            ),
            ("my-avs", "my_avs", "MyAvs")
        );
        assert!(context("9lives", "bn254", None).is_err());
        assert!(
            context("bad name", "bn254", None)
                .unwrap_err()
                .contains("letters")
        );
    }

    #[test]
    fn every_template_renders() {
        let dir = std::env::temp_dir().join(format!("ponos-new-{}", std::process::id()));
        let c = context(
            "price-oracle",
            "ecdsa",
            Some(Path::new("/home/dev/ponos-checkout")),
        )
        .unwrap();
        let files = render(&dir, &c, true).unwrap();
        assert_eq!(files.len(), TEMPLATES.len() + 1 + PONOS_CONTRACTS.len());
        // Only the git-ignored cargo configuration names the checkout.
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let local = file.ends_with(".cargo/config.toml");
            assert_eq!(
                text.contains("/home/dev/ponos-checkout"),
                local,
                "{}",
                file.display()
            );
        }
        let ignored = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
        assert!(ignored.lines().any(|l| l == "/.cargo/config.toml"));
        let hook =
            std::fs::read_to_string(dir.join("contracts/src/PriceOracleTaskHook.sol")).unwrap();
        assert!(hook.contains("contract PriceOracleTaskHook is IAVSTaskHook"));
        let toml = std::fs::read_to_string(dir.join("ponos.toml")).unwrap();
        assert!(toml.contains("curve = \"ecdsa\""));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
