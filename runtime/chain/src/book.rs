//! Where EigenLayer's contracts live on the networks Ponos knows by name (`ponos deploy --network`,
//! and the chain ids of Hourglass config files).
//!
//! EigenLayer's core (operator sets, keys, the cross-chain registry) lives on an L1; every chain
//! that carries tasks, L1 or L2, has a TaskMailbox and the certificate verifiers.

use alloy::primitives::{Address, address};

/// EigenLayer's core contracts on an L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L1Core {
    /// Operator sets, their members and the AVS registrar.
    pub allocation_manager: Address,
    /// Operator signing keys.
    pub key_registrar: Address,
    /// Generation reservations: which operator tables are transported where.
    pub cross_chain_registry: Address,
}

/// The contracts every task chain has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCore {
    /// The TaskMailbox.
    pub task_mailbox: Address,
    /// Verifies BN254 certificates.
    pub bn254_certificate_verifier: Address,
    /// Verifies ECDSA certificates.
    pub ecdsa_certificate_verifier: Address,
}

/// A network in the address book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    /// The name `--network` takes.
    pub name: &'static str,
    /// Other names for it.
    pub aliases: &'static [&'static str],
    /// Its chain id.
    pub chain_id: u64,
    /// EigenLayer's core, on L1s.
    pub l1: Option<L1Core>,
    /// The task contracts.
    pub task: TaskCore,
}

const MAINNET_TASK: TaskCore = TaskCore {
    task_mailbox: address!("0x132b466d9d5723531F68797519DfED701aC2C749"),
    bn254_certificate_verifier: address!("0x3F55654b2b2b86bB11bE2f72657f9C33bf88120A"),
    ecdsa_certificate_verifier: address!("0xd0930ee96D07de4F9d493c259232222e46B6EC25"),
};

const TESTNET_TASK: TaskCore = TaskCore {
    task_mailbox: address!("0xB99CC53e8db7018f557606C2a5B066527bF96b26"),
    bn254_certificate_verifier: address!("0xff58A373c18268F483C1F5cA03Cf885c0C43373a"),
    ecdsa_certificate_verifier: address!("0xb3Cd1A457dEa9A9A6F6406c6419B1c326670A96F"),
};

/// The networks `ponos deploy --network` knows.
pub const NETWORKS: &[Network] = &[
    Network {
        name: "ethereum",
        aliases: &["mainnet"],
        chain_id: 1,
        l1: Some(L1Core {
            allocation_manager: address!("0x948a420b8CC1d6BFd0B6087C2E7c344a2CD0bc39"),
            key_registrar: address!("0x54f4bC6bDEbe479173a2bbDc31dD7178408A57A4"),
            cross_chain_registry: address!("0x9376A5863F2193cdE13e1aB7c678F22554E2Ea2b"),
        }),
        task: MAINNET_TASK,
    },
    Network {
        name: "base",
        aliases: &[],
        chain_id: 8453,
        l1: None,
        task: MAINNET_TASK,
    },
    Network {
        name: "sepolia",
        aliases: &[],
        chain_id: 11_155_111,
        l1: Some(L1Core {
            allocation_manager: address!("0x42583067658071247ec8CE0A516A58f682002d07"),
            key_registrar: address!("0xA4dB30D08d8bbcA00D40600bee9F029984dB162a"),
            cross_chain_registry: address!("0x287381B1570d9048c4B4C7EC94d21dDb8Aa1352a"),
        }),
        task: TESTNET_TASK,
    },
    Network {
        name: "base-sepolia",
        aliases: &["basesepolia"],
        chain_id: 84_532,
        l1: None,
        task: TESTNET_TASK,
    },
];

/// The network called `name` (case-insensitive; aliases count).
pub fn lookup(name: &str) -> Option<&'static Network> {
    let name = name.to_ascii_lowercase();
    NETWORKS
        .iter()
        .find(|n| n.name == name || n.aliases.contains(&name.as_str()))
}

/// The names `--network` accepts, for messages.
pub fn names() -> String {
    NETWORKS
        .iter()
        .map(|n| n.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Network {
    /// Every contract the book lists for this network, with its name.
    pub fn contracts(&self) -> Vec<(&'static str, Address)> {
        let mut all = Vec::new();
        if let Some(l1) = &self.l1 {
            all.push(("AllocationManager", l1.allocation_manager));
            all.push(("KeyRegistrar", l1.key_registrar));
            all.push(("CrossChainRegistry", l1.cross_chain_registry));
        }
        all.push(("TaskMailbox", self.task.task_mailbox));
        all.push((
            "BN254CertificateVerifier",
            self.task.bn254_certificate_verifier,
        ));
        all.push((
            "ECDSACertificateVerifier",
            self.task.ecdsa_certificate_verifier,
        ));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve_and_chain_ids_are_unique() {
        assert_eq!(lookup("Base").unwrap().chain_id, 8453);
        assert_eq!(lookup("mainnet").unwrap().name, "ethereum");
        assert!(lookup("holesky").is_none());
        let mut ids: Vec<u64> = NETWORKS.iter().map(|n| n.chain_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), NETWORKS.len());
        // L2s carry tasks only; their AVS lives on the L1.
        assert!(lookup("base").unwrap().l1.is_none());
        assert_eq!(lookup("sepolia").unwrap().contracts().len(), 6);
    }
}
