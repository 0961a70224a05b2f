//! `ponos keys`: create, import, export and list keystores (BN254 and BLS12-381 in EIP-2335,
//! ECDSA in Web3 Secret Storage v3). Passwords and private keys come from environment
//! variables, never from arguments, so they stay out of shell history and `ps`.

use std::path::{Path, PathBuf};

use alloy::primitives::hex;
use clap::{Args, Subcommand, ValueEnum};
use ponos_crypto::{
    CryptoError, bls12_381, bn254, ecdsa,
    keystore::{Eip2335Curve, Eip2335Keystore, Kdf, Web3Keystore},
};
use serde::Serialize;

/// Create, import, export and list keystores (BN254, ECDSA, BLS12-381).
#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a key and write its keystore.
    #[command(
        after_help = "Examples:\n  PONOS_KEYSTORE_PASSWORD=... ponos keys new --type bn254 --name operator\n  PONOS_KEYSTORE_PASSWORD=... ponos keys new --type ecdsa --name aggregator --dir keys"
    )]
    New(NewKey),
    /// Write a keystore for an existing private key, read from an environment variable.
    ///
    /// Example:
    ///   PRIVATE_KEY=0x... PONOS_KEYSTORE_PASSWORD=... ponos keys import --type ecdsa --name tx
    Import(ImportKey),
    /// Print the private key of a keystore (for moving it to another signer).
    Export(ExportKey),
    /// List the keystores in a directory with their curve and public key or address.
    List(ListKeys),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KeyType {
    /// BN254 (BLS on the curve EigenLayer's certificates use).
    Bn254,
    /// secp256k1 ECDSA.
    Ecdsa,
    /// BLS12-381 (Ethereum's validator curve).
    Bls381,
}

impl KeyType {
    fn suffix(self) -> &'static str {
        match self {
            Self::Bn254 => "bn254",
            Self::Ecdsa => "ecdsa",
            Self::Bls381 => "bls381",
        }
    }
}

#[derive(Debug, Args)]
struct Common {
    /// The directory keystores live in.
    #[arg(long, default_value = "keys")]
    dir: PathBuf,
    /// The environment variable holding the keystore password.
    #[arg(long, default_value = "PONOS_KEYSTORE_PASSWORD")]
    password_env: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct NewKey {
    /// The key's curve.
    #[arg(long = "type", value_enum)]
    key_type: KeyType,
    /// The keystore's name: written to <dir>/<name>.<type>.json.
    #[arg(long)]
    name: String,
    /// Cheap key derivation (PBKDF2, 1000 rounds) for throwaway devnet keys only.
    #[arg(long)]
    insecure_fast_kdf: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ImportKey {
    /// The key's curve.
    #[arg(long = "type", value_enum)]
    key_type: KeyType,
    /// The keystore's name.
    #[arg(long)]
    name: String,
    /// The environment variable holding the private key (hex).
    #[arg(long, default_value = "PRIVATE_KEY")]
    private_key_env: String,
    /// Cheap key derivation for throwaway devnet keys only.
    #[arg(long)]
    insecure_fast_kdf: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ExportKey {
    /// The keystore file.
    file: PathBuf,
    /// The environment variable holding the keystore password.
    #[arg(long, default_value = "PONOS_KEYSTORE_PASSWORD")]
    password_env: String,
}

#[derive(Debug, Args)]
struct ListKeys {
    /// The directory to list.
    #[arg(long, default_value = "keys")]
    dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct KeyInfo {
    file: PathBuf,
    curve: &'static str,
    /// The ECDSA address, or the public key in hex.
    public: String,
}

/// A secret key of any supported curve.
enum Secret {
    Bn254(bn254::SecretKey),
    Ecdsa(ecdsa::SecretKey),
    Bls381(bls12_381::SecretKey),
}

impl Secret {
    fn public(&self) -> String {
        match self {
            // The G2 key, as EIP-2335 keystores hold it.
            Self::Bn254(k) => hex::encode_prefixed(&k.public_key().key_data()[64..]),
            Self::Ecdsa(k) => k.address().to_string(),
            Self::Bls381(k) => hex::encode_prefixed(k.public_key().to_bytes()),
        }
    }

    fn private_hex(&self) -> String {
        match self {
            Self::Bn254(k) => hex::encode_prefixed(*k.to_bytes()),
            Self::Ecdsa(k) => hex::encode_prefixed(*k.to_bytes()),
            Self::Bls381(k) => hex::encode_prefixed(*k.to_bytes()),
        }
    }

    fn curve(&self) -> &'static str {
        match self {
            Self::Bn254(_) => "bn254",
            Self::Ecdsa(_) => "ecdsa",
            Self::Bls381(_) => "bls381",
        }
    }

    fn from_bytes(key_type: KeyType, bytes: &[u8]) -> Result<Self, CryptoError> {
        Ok(match key_type {
            KeyType::Bn254 => Self::Bn254(bn254::SecretKey::from_bytes(bytes)?),
            KeyType::Ecdsa => Self::Ecdsa(ecdsa::SecretKey::from_bytes(bytes)?),
            KeyType::Bls381 => Self::Bls381(bls12_381::SecretKey::from_bytes(bytes)?),
        })
    }

    fn random(key_type: KeyType) -> Self {
        let mut rng = rand::thread_rng();
        match key_type {
            KeyType::Bn254 => Self::Bn254(bn254::SecretKey::random(&mut rng)),
            KeyType::Ecdsa => Self::Ecdsa(ecdsa::SecretKey::random(&mut rng)),
            KeyType::Bls381 => Self::Bls381(bls12_381::SecretKey::random(&mut rng)),
        }
    }

    fn seal(&self, password: &str, kdf: &Kdf) -> Result<String, String> {
        let mut rng = rand::thread_rng();
        let json = match self {
            Self::Bn254(k) => {
                Eip2335Keystore::encrypt_bn254(k, password, kdf, &mut rng).and_then(|ks| {
                    serde_json::to_string_pretty(&ks)
                        .map_err(|e| CryptoError::Keystore(e.to_string()))
                })
            }
            Self::Bls381(k) => Eip2335Keystore::encrypt_bls12_381(k, password, kdf, &mut rng)
                .and_then(|ks| {
                    serde_json::to_string_pretty(&ks)
                        .map_err(|e| CryptoError::Keystore(e.to_string()))
                }),
            Self::Ecdsa(k) => Web3Keystore::encrypt(k, password, kdf, &mut rng).and_then(|ks| {
                serde_json::to_string_pretty(&ks).map_err(|e| CryptoError::Keystore(e.to_string()))
            }),
        };
        json.map_err(|e| format!("sealing the keystore: {e}"))
    }
}

fn password(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => Err(format!(
            "set {var} to the keystore password (or pass --password-env NAME)"
        )),
    }
}

/// Opens any keystore file Ponos writes.
fn open(file: &Path, password: &str) -> Result<Secret, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
    let wrong = |e: CryptoError| match e {
        CryptoError::WrongPassword => format!("wrong password for {}", file.display()),
        other => format!("{}: {other}", file.display()),
    };
    if value.get("crypto").is_some() && value.get("pubkey").is_some() {
        let ks: Eip2335Keystore = serde_json::from_value(value)
            .map_err(|e| format!("{}: not an EIP-2335 keystore: {e}", file.display()))?;
        match ks.curve() {
            Eip2335Curve::Bn254 => ks.decrypt_bn254(password).map(Secret::Bn254).map_err(wrong),
            Eip2335Curve::Bls12_381 => ks
                .decrypt_bls12_381(password)
                .map(Secret::Bls381)
                .map_err(wrong),
        }
    } else {
        let ks: Web3Keystore = serde_json::from_value(value).map_err(|e| {
            format!(
                "{}: not a keystore Ponos knows (EIP-2335 or Web3 v3): {e}",
                file.display()
            )
        })?;
        ks.decrypt(password).map(Secret::Ecdsa).map_err(wrong)
    }
}

/// What a keystore shows without its password.
fn peek(file: &Path) -> Option<KeyInfo> {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    if let Some(pubkey) = value.get("pubkey").and_then(|p| p.as_str()) {
        let curve = match value.get("curveType").and_then(|c| c.as_str()) {
            Some("bn254") => "bn254",
            _ => "bls381",
        };
        return Some(KeyInfo {
            file: file.to_path_buf(),
            curve,
            public: format!("0x{}", pubkey.trim_start_matches("0x")),
        });
    }
    let address: alloy::primitives::Address = value
        .get("address")
        .and_then(|a| a.as_str())
        .and_then(|a| format!("0x{}", a.trim_start_matches("0x")).parse().ok())?;
    Some(KeyInfo {
        file: file.to_path_buf(),
        curve: "ecdsa",
        public: address.to_string(),
    })
}

fn write(
    common: &Common,
    name: &str,
    key_type: KeyType,
    secret: &Secret,
    fast: bool,
) -> Result<KeyInfo, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("--name {name:?}: use letters, digits, - and _"));
    }
    let password = password(&common.password_env)?;
    let file = common
        .dir
        .join(format!("{name}.{}.json", key_type.suffix()));
    if file.exists() {
        return Err(format!(
            "{} already exists; pick another --name",
            file.display()
        ));
    }
    let kdf = if fast {
        Kdf::Pbkdf2 { c: 1000 }
    } else {
        Kdf::scrypt()
    };
    let json = secret.seal(&password, &kdf)?;
    ponos_devkit::private::create_dir(&common.dir)
        .map_err(|e| format!("{}: {e}", common.dir.display()))?;
    ponos_devkit::private::write(&file, json).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(KeyInfo {
        file,
        curve: secret.curve(),
        public: secret.public(),
    })
}

fn show(info: &KeyInfo, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(info).unwrap_or_default());
    } else {
        println!("{:<7} {}  {}", info.curve, info.public, info.file.display());
    }
}

impl KeysArgs {
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        let outcome = match self.command {
            KeysCommand::New(args) => {
                let secret = Secret::random(args.key_type);
                write(
                    &args.common,
                    &args.name,
                    args.key_type,
                    &secret,
                    args.insecure_fast_kdf,
                )
                .map(|info| show(&info, args.common.json))
            }
            KeysCommand::Import(args) => std::env::var(&args.private_key_env)
                .map_err(|_| format!("set {} to the private key (hex)", args.private_key_env))
                .and_then(|hex_key| {
                    hex::decode(hex_key.trim())
                        .map_err(|e| format!("{}: not hex: {e}", args.private_key_env))
                })
                .and_then(|bytes| {
                    Secret::from_bytes(args.key_type, &bytes)
                        .map_err(|e| format!("{}: {e}", args.private_key_env))
                })
                .and_then(|secret| {
                    write(
                        &args.common,
                        &args.name,
                        args.key_type,
                        &secret,
                        args.insecure_fast_kdf,
                    )
                })
                .map(|info| show(&info, args.common.json)),
            KeysCommand::Export(args) => password(&args.password_env)
                .and_then(|p| open(&args.file, &p))
                .map(|secret| {
                    eprintln!(
                        "warning: this is the private key; anyone who sees it controls the key"
                    );
                    println!("{}", secret.private_hex());
                }),
            KeysCommand::List(args) => {
                let mut infos: Vec<KeyInfo> = std::fs::read_dir(&args.dir)
                    .map(|entries| {
                        entries
                            .filter_map(Result::ok)
                            .map(|e| e.path())
                            .filter(|p| p.extension().is_some_and(|x| x == "json"))
                            .filter_map(|p| peek(&p))
                            .collect()
                    })
                    .unwrap_or_default();
                infos.sort_by(|a, b| a.file.cmp(&b.file));
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&infos)?);
                } else if infos.is_empty() {
                    println!("no keystores in {}", args.dir.display());
                } else {
                    for info in &infos {
                        show(info, false);
                    }
                }
                Ok(())
            }
        };
        match outcome {
            Ok(()) => Ok(0),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(1)
            }
        }
    }
}
