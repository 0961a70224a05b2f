//! The deploy journal: what `ponos deploy` has done on a network, step by step, so an interrupted
//! deploy resumes where it stopped and a finished one is not repeated.
//!
//! A transaction's hash is written before its receipt is awaited: a deploy killed in between
//! waits for that transaction on the next run instead of sending the step again.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use ponos_chain::sandbox::StackAddresses;
use serde::{Deserialize, Serialize};

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Its transaction was sent; its receipt was not seen yet.
    Sent,
    /// It is done.
    Done,
}

/// One step of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step's name (stable across runs).
    pub name: String,
    /// Where it stands.
    pub status: StepStatus,
    /// Its (last) transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<B256>,
    /// The contract it deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A deploy journal, stored as JSON beside the project (`deployments/<network>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The network's name.
    pub network: String,
    /// Its chain id.
    pub chain_id: u64,
    /// The account that sends every transaction; it is the AVS.
    pub deployer: Address,
    /// Whether Ponos's own stack stands in for EigenLayer's.
    pub sandbox: bool,
    /// The stack, once deployed (sandbox only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<StackAddresses>,
    /// The file the stack was read from, when this deploy uses one deployed earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_source: Option<PathBuf>,
    /// The steps started so far, in order. A step of several transactions records each as
    /// `<step>/<part>` before the step itself.
    pub steps: Vec<StepRecord>,
}

impl Journal {
    /// A journal with nothing done yet.
    pub fn new(network: &str, chain_id: u64, deployer: Address, sandbox: bool) -> Self {
        Self {
            network: network.to_string(),
            chain_id,
            deployer,
            sandbox,
            stack: None,
            stack_source: None,
            steps: Vec::new(),
        }
    }

    /// The journal's path for `network` in `project`.
    pub fn path(project: &Path, network: &str) -> PathBuf {
        project
            .join("deployments")
            .join(format!("{}.json", network.to_ascii_lowercase()))
    }

    /// Reads a journal; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                format!(
                    "{}: not a deploy journal ({e}); move it away to start over",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the journal (to a temporary file first, so a crash never leaves half of it).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let text = serde_json::to_string_pretty(self).expect("a journal serialises");
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text + "\n")
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The record of step `name`.
    pub fn step(&self, name: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// Whether step `name` is done.
    pub fn is_done(&self, name: &str) -> bool {
        self.step(name)
            .is_some_and(|s| s.status == StepStatus::Done)
    }

    /// The contract step `name` deployed.
    pub fn address(&self, name: &str) -> Option<Address> {
        self.step(name).and_then(|s| s.address)
    }

    /// Records step `name` (replacing an earlier record of it).
    pub fn record(&mut self, record: StepRecord) {
        match self.steps.iter_mut().find(|s| s.name == record.name) {
            Some(existing) => *existing = record,
            None => self.steps.push(record),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_round_trips_and_records_replace_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path(dir.path(), "Base");
        assert!(path.ends_with("deployments/base.json"));
        assert_eq!(Journal::load(&path).unwrap(), None);

        let mut journal = Journal::new("base", 8453, Address::repeat_byte(1), true);
        journal.record(StepRecord {
            name: "task-hook".into(),
            status: StepStatus::Sent,
            tx: Some(B256::repeat_byte(2)),
            address: None,
        });
        journal.record(StepRecord {
            name: "task-hook".into(),
            status: StepStatus::Done,
            tx: Some(B256::repeat_byte(2)),
            address: Some(Address::repeat_byte(3)),
        });
        journal.save(&path).unwrap();
        let read = Journal::load(&path).unwrap().unwrap();
        assert_eq!(read, journal);
        assert_eq!(read.steps.len(), 1);
        assert!(read.is_done("task-hook"));
        assert_eq!(read.address("task-hook"), Some(Address::repeat_byte(3)));

        std::fs::write(&path, "{").unwrap();
        assert!(Journal::load(&path).unwrap_err().contains("move it away"));
    }
}
