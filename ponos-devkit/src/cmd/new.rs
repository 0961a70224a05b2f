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

/// Create a new AVS project: a performer crate on the Ponos SDK with a devnet test, the AVS's
/// contracts (a task hook and an operator registrar) with forge tests, and `ponos.toml`.
///
/// Examples:
///   ponos new my-avs
///   ponos new my-avs --curve ecdsa --dir ~/code
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The AVS's name: letters, digits and dashes, starting with a letter (e.g. my-avs).
    name: String,
    /// The curve of the executor operator set.
    #[arg(long, value_enum, default_value = "bn254")]
    curve: CurveArg,
    /// The directory to create the project in.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The Ponos checkout the project builds against (SDK, devkit, contracts).
    #[arg(long, env = "PONOS_PATH")]
    ponos_path: Option<PathBuf>,
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
fn context(name: &str, curve: &'static str, ponos_path: &Path) -> Result<Context, String> {
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
        ponos_path: ponos_path.display().to_string(),
    })
}

/// Renders every template into `root`.
fn render(root: &Path, context: &Context) -> Result<Vec<PathBuf>, String> {
    let mut engine = Handlebars::new();
    engine.register_escape_fn(handlebars::no_escape);
    engine.set_strict_mode(true);
    let mut written = Vec::new();
    for (source, target, text) in TEMPLATES {
        let target = engine
            .render_template(target, context)
            .map_err(|e| format!("template {source}: {e}"))?;
        let body = engine
            .render_template(text, context)
            .map_err(|e| format!("template {source}: {e}"))?;
        let path = root.join(target);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, body).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

impl NewArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        let ponos_path = match self.ponos_path {
            Some(path) => path,
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
        };
        let Ok(ponos_path) = ponos_path.canonicalize() else {
            eprintln!(
                "error: no Ponos checkout at {}; pass --ponos-path (or PONOS_PATH)",
                ponos_path.display()
            );
            return Ok(1);
        };
        if !ponos_path.join("runtime/performer/Cargo.toml").is_file() {
            eprintln!(
                "error: {} is not a Ponos checkout (no runtime/performer); pass --ponos-path",
                ponos_path.display()
            );
            return Ok(1);
        }
        let curve = match self.curve {
            CurveArg::Bn254 => "bn254",
            CurveArg::Ecdsa => "ecdsa",
        };
        let context = match context(&self.name, curve, &ponos_path) {
            Ok(context) => context,
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(1);
            }
        };
        let root = self.dir.join(&self.name);
        if root.exists() {
            eprintln!(
                "error: {} already exists; pick another name or --dir",
                root.display()
            );
            return Ok(1);
        }
        let rendered = render(&root, &context).and_then(|files| {
            // Start from the dependency versions this Ponos checkout is tested with.
            let lock = ponos_path.join("Cargo.lock");
            if lock.is_file() {
                std::fs::copy(&lock, root.join("Cargo.lock"))
                    .map_err(|e| format!("copying {}: {e}", lock.display()))?;
            }
            Ok(files)
        });
        match rendered {
            Ok(files) => {
                println!(
                    "created {} ({} files, {curve} executor set)",
                    root.display(),
                    files.len()
                );
                println!("next:");
                println!("  cd {}", root.display());
                println!("  cargo test        # the performer, and the AVS end to end on a devnet");
                println!("  forge test        # the contracts");
                Ok(0)
            }
            Err(message) => {
                eprintln!("error: {message}");
                Ok(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_identifiers_and_bad_names_are_refused() {
        let c = context("my-avs", "bn254", Path::new("/p")).unwrap();
        assert_eq!(
            (
                c.crate_name.as_str(),
                c.crate_ident.as_str(),
                c.type_name.as_str()
            ),
            ("my-avs", "my_avs", "MyAvs")
        );
        assert!(context("9lives", "bn254", Path::new("/p")).is_err());
        assert!(
            context("bad name", "bn254", Path::new("/p"))
                .unwrap_err()
                .contains("letters")
        );
    }

    #[test]
    fn every_template_renders() {
        let dir = std::env::temp_dir().join(format!("ponos-new-{}", std::process::id()));
        let c = context("price-oracle", "ecdsa", Path::new("/ponos")).unwrap();
        let files = render(&dir, &c).unwrap();
        assert_eq!(files.len(), TEMPLATES.len());
        let hook =
            std::fs::read_to_string(dir.join("contracts/src/PriceOracleTaskHook.sol")).unwrap();
        assert!(hook.contains("contract PriceOracleTaskHook is IAVSTaskHook"));
        let toml = std::fs::read_to_string(dir.join("ponos.toml")).unwrap();
        assert!(toml.contains("curve = \"ecdsa\""));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
