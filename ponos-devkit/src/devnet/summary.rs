//! What a running devnet writes for the commands that talk to it (`devnet.json` in its state
//! directory): its chains, AVSs, executors and processes, and how a certificate reads.

use std::path::{Path, PathBuf};

use alloy::{
    primitives::{Address, B256},
    sol_types::SolValue,
};
use ponos_chain::sandbox::StackAddresses;
use ponos_crypto::types::{BN254Certificate, ECDSACertificate};
use serde::{Deserialize, Serialize};

use super::{DevnetError, SUMMARY_FILE};

/// One chain of the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainSummary {
    /// `l1` or `l2`.
    pub name: String,
    /// The chain id.
    pub chain_id: u64,
    /// Its JSON-RPC endpoint.
    pub rpc_url: String,
    /// The stack's addresses there.
    pub task_mailbox: Address,
    /// The BN254 certificate verifier.
    pub bn254_certificate_verifier: Address,
    /// The ECDSA certificate verifier.
    pub ecdsa_certificate_verifier: Address,
    /// The operator table updater.
    pub operator_table_updater: Address,
    /// The AVS's task hook there.
    pub task_hook: Address,
}

/// One AVS of the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AvsSummary {
    /// The AVS.
    pub avs: Address,
    /// Its registrar on L1.
    pub registrar: Address,
    /// Its executor set's curve (`bn254` or `ecdsa`).
    pub curve: String,
    /// Its task hook on each chain, in the order of [`DevnetSummary::chains`].
    pub task_hooks: Vec<Address>,
    /// What its performers run: a binary, an image, or `in-process`.
    pub performer: String,
}

impl DevnetSummary {
    /// The AVS `selector` names: its 1-based position or its address; the first when `None`.
    pub fn pick_avs(&self, selector: Option<&str>) -> Result<AvsSummary, String> {
        let avss = if self.avss.is_empty() {
            vec![AvsSummary {
                avs: self.avs,
                registrar: self.registrar,
                curve: self.curve.clone(),
                task_hooks: self.chains.iter().map(|c| c.task_hook).collect(),
                performer: self.performer_runtime.clone(),
            }]
        } else {
            self.avss.clone()
        };
        let Some(selector) = selector else {
            return Ok(avss[0].clone());
        };
        let found = match selector.parse::<usize>() {
            Ok(n) => n.checked_sub(1).and_then(|i| avss.get(i)),
            Err(_) => selector
                .parse::<Address>()
                .ok()
                .and_then(|a| avss.iter().find(|s| s.avs == a)),
        };
        found.cloned().ok_or_else(|| {
            format!(
                "--avs {selector}: this devnet runs {} AVS(s): {} (pass a number from 1 or an address)",
                avss.len(),
                avss.iter()
                    .enumerate()
                    .map(|(i, s)| format!("{} = {}", i + 1, s.avs))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// One executor of the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutorSummary {
    /// The operator.
    pub operator: Address,
    /// Where its executor listens.
    pub socket: String,
}

/// What a running devnet is: written to `devnet.json`, read by `ponos task` and friends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevnetSummary {
    /// The chains, L1 first.
    pub chains: Vec<ChainSummary>,
    /// The L1's AllocationManager.
    pub allocation_manager: Address,
    /// The L1's KeyRegistrar.
    pub key_registrar: Address,
    /// The (first) AVS.
    pub avs: Address,
    /// Its registrar on L1.
    pub registrar: Address,
    /// Its executor set's curve (`bn254` or `ecdsa`).
    pub curve: String,
    /// Every AVS, the first one first.
    #[serde(default)]
    pub avss: Vec<AvsSummary>,
    /// The aggregator's operator address.
    pub aggregator: Address,
    /// The account that creates tasks in `ponos task create`.
    pub task_creator: Address,
    /// Its private key: one of anvil's well-known development keys, never a real one.
    pub task_creator_key: B256,
    /// The executors.
    pub executors: Vec<ExecutorSummary>,
    /// Milliseconds from start to ready.
    pub ready_ms: u64,
    /// The process running the devnet.
    pub pid: u32,
    /// When it started ([`process_started`]): `down` signals the process with this pid only
    /// while it is still the one that started then, never a later one that reuses the pid.
    #[serde(default)]
    pub pid_started: Option<u64>,
    /// Its anvil processes: a devnet that was killed leaves them running, and the next
    /// `ponos devnet up` or `down` stops them.
    #[serde(default)]
    pub anvil_pids: Vec<u32>,
    /// When each of them started, in the same order.
    #[serde(default)]
    pub anvil_started: Vec<Option<u64>>,
    /// The performer binary the executors run (process performers), and when it was built.
    #[serde(default)]
    pub performer_binary: Option<BinaryStamp>,
    /// How the executors run their performer: `process`, `docker`, or `in-process` (the
    /// built-in one, which cannot be reloaded).
    #[serde(default)]
    pub performer_runtime: String,
    /// How many performer builds the devnet has run: 1 at start, one more per reload.
    #[serde(default)]
    pub performer_generation: u64,
}

/// What a performer reload did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reloaded {
    /// The performer generation serving now (1 is the one the devnet started with).
    pub generation: u64,
    /// The executors that switched to it.
    pub executors: usize,
    /// From the reload request to every executor serving the new performer.
    pub swap_ms: u64,
}

/// A binary and its modification time: a devnet that runs an older build than the one on disk
/// says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryStamp {
    /// Its path.
    pub path: PathBuf,
    /// Its modification time, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
}

impl BinaryStamp {
    /// The stamp of `path` as it is on disk now.
    pub fn of(path: &Path) -> Option<Self> {
        let modified = std::fs::metadata(path).ok()?.modified().ok()?;
        let modified_ms = modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis() as u64;
        Some(Self {
            path: path.to_path_buf(),
            modified_ms,
        })
    }

    /// Whether the binary on disk was rebuilt since this stamp was taken.
    pub fn is_stale(&self) -> bool {
        Self::of(&self.path).is_some_and(|now| now.modified_ms > self.modified_ms)
    }
}

/// When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat`, field 22): with
/// the pid, what names one process for as long as the machine runs. `None` when it is gone.
pub fn process_started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Signers and non-signers of an `executorCert` for a set of `operators`: an ECDSA
/// certificate carries one 65-byte signature per signer, a BN254 one a witness per non-signer.
/// A certificate that does not decode, or does not fit the set, is an error naming why.
pub fn certificate_summary(
    certificate: &[u8],
    operators: usize,
    bn254: bool,
) -> Result<(usize, usize), String> {
    let too_many = || format!("the certificate counts more operators than the set's {operators}");
    if bn254 {
        let decoded = BN254Certificate::abi_decode(certificate)
            .map_err(|e| format!("not a BN254 certificate ({} bytes): {e}", certificate.len()))?;
        let non_signers = decoded.nonSignerWitnesses.len();
        let signers = operators.checked_sub(non_signers).ok_or_else(too_many)?;
        Ok((signers, non_signers))
    } else {
        let decoded = ECDSACertificate::abi_decode(certificate).map_err(|e| {
            format!(
                "not an ECDSA certificate ({} bytes): {e}",
                certificate.len()
            )
        })?;
        if decoded.sig.len() % 65 != 0 {
            return Err(format!(
                "an ECDSA certificate's signatures are 65 bytes each, not {} bytes in all",
                decoded.sig.len()
            ));
        }
        let signers = decoded.sig.len() / 65;
        let non_signers = operators.checked_sub(signers).ok_or_else(too_many)?;
        Ok((signers, non_signers))
    }
}

pub(super) fn chain_summary(
    name: &str,
    chain_id: u64,
    rpc_url: &str,
    stack: &StackAddresses,
    task_hook: Address,
) -> ChainSummary {
    ChainSummary {
        task_hook,
        name: name.into(),
        chain_id,
        rpc_url: rpc_url.into(),
        task_mailbox: stack.task_mailbox,
        bn254_certificate_verifier: stack.bn254_certificate_verifier,
        ecdsa_certificate_verifier: stack.ecdsa_certificate_verifier,
        operator_table_updater: stack.operator_table_updater,
    }
}

/// Writes `summary` to `dir/devnet.json`.
pub fn write_summary(dir: &Path, summary: &DevnetSummary) -> Result<(), DevnetError> {
    let path = dir.join(SUMMARY_FILE);
    let failed = |e: &dyn std::fmt::Display| DevnetError::State {
        path: path.clone(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
    let json = serde_json::to_string_pretty(summary).map_err(|e| failed(&e))?;
    std::fs::write(&path, json).map_err(|e| failed(&e))
}

/// Reads `dir/devnet.json`.
pub fn read_summary(dir: &Path) -> Result<DevnetSummary, DevnetError> {
    let path = dir.join(SUMMARY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| DevnetError::State {
        path: path.clone(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "no devnet is running here (start one with `ponos devnet up`)".into()
        } else {
            e.to_string()
        },
    })?;
    serde_json::from_str(&text).map_err(|e| DevnetError::State {
        path,
        reason: format!("not a devnet summary: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use alloy::{primitives::Bytes, sol_types::SolValue as _};

    use super::*;

    #[test]
    fn signers_are_read_from_the_certificate_and_a_bad_one_is_named() {
        let ecdsa = |signers: usize| {
            ECDSACertificate {
                sig: Bytes::from(vec![7; 65 * signers]),
                ..Default::default()
            }
            .abi_encode()
        };
        assert_eq!(certificate_summary(&ecdsa(3), 4, false), Ok((3, 1)));
        let bn254 = BN254Certificate::default().abi_encode();
        assert_eq!(certificate_summary(&bn254, 4, true), Ok((4, 0)));
        for (bytes, operators, bn254, why) in [
            (Vec::new(), 4, true, "not a BN254 certificate (0 bytes)"),
            (Vec::new(), 4, false, "not an ECDSA certificate (0 bytes)"),
            (ecdsa(5), 4, false, "more operators than the set's 4"),
        ] {
            let error = certificate_summary(&bytes, operators, bn254).unwrap_err();
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn a_process_is_known_by_its_start_so_a_reused_pid_is_not_taken_for_it() {
        let own = process_started(std::process::id()).expect("this process has a start time");
        assert_eq!(process_started(std::process::id()), Some(own));
        // A child started later has a later (or, within one tick, the same) start.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let child_start = process_started(child.id()).unwrap();
        assert!(child_start >= own);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(process_started(child.id()), None, "gone once reaped");
    }
}
