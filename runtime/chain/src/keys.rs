//! The aggregator's key as EigenLayer's contracts hold it: the AVS's registrar names its
//! aggregator operator set, the AllocationManager says who is in it, the KeyRegistrar holds the
//! set's curve and each member's key. Executors read it to check a task's signature; the
//! aggregator reads it to check, before serving an AVS, that the key it signs with is the one
//! registered.

use alloy::{eips::BlockId, primitives::Address, providers::Provider};

use crate::contracts::{AllocationManager, KeyRegistrar, TaskAVSRegistrarBase};

/// A key registered for an operator set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisteredKey {
    /// An ECDSA signing-key address.
    Ecdsa(Address),
    /// A BN254 key as `encodeBN254KeyData` lays it out: G1 X, Y, then G2 X and Y in precompile
    /// order, 32 bytes each.
    Bn254([u8; 192]),
}

/// Why a key read gave no key. Also what the executor's other chain reads fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyReadError {
    /// The node could not be read. The reason has URLs redacted (they can carry API keys).
    #[error("reading {what} from L1: {reason}")]
    Node {
        /// What was being read.
        what: &'static str,
        /// What the node or transport said.
        reason: String,
    },
    /// The chain answered, and the answer is no key.
    #[error("{0}")]
    Refused(String),
}

impl KeyReadError {
    /// The error of a failed contract call reading `what`, its URLs redacted.
    pub fn node(what: &'static str) -> impl Fn(alloy::contract::Error) -> Self {
        move |e| Self::Node {
            what,
            reason: crate::redact::urls_in(&e.to_string()),
        }
    }
}

/// The key `aggregator` registered for the aggregator operator set of `avs`, read at `at`; an
/// error when it is not a member of that set or the set's curve is neither ECDSA nor BN254.
pub async fn aggregator_key<P: Provider>(
    provider: &P,
    allocation_manager: Address,
    key_registrar: Address,
    avs: Address,
    aggregator: Address,
    at: BlockId,
) -> Result<RegisteredKey, KeyReadError> {
    let manager = AllocationManager::new(allocation_manager, provider);
    let registrar = manager
        .getAVSRegistrar(avs)
        .block(at)
        .call()
        .await
        .map_err(KeyReadError::node("getAVSRegistrar"))?;
    let config = match TaskAVSRegistrarBase::new(registrar, provider)
        .getAvsConfig()
        .block(at)
        .call()
        .await
    {
        Ok(config) => config,
        Err(error) => {
            // Only when the call fails: is there a registrar at all?
            let code = provider
                .get_code_at(registrar)
                .block_id(at)
                .await
                .map_err(|e| KeyReadError::Node {
                    what: "the AVS registrar's code",
                    reason: crate::redact::urls_in(&e.to_string()),
                })?;
            if code.is_empty() {
                return Err(KeyReadError::Refused(format!(
                    "AVS {avs} has no registrar contract on L1 (is it set up on this chain?)"
                )));
            }
            return Err(KeyReadError::node("getAvsConfig")(error));
        }
    };
    let id = config.aggregatorOperatorSetId;
    let member = manager
        .isMemberOfOperatorSet(aggregator, AllocationManager::OperatorSet { avs, id })
        .block(at)
        .call()
        .await
        .map_err(KeyReadError::node("isMember"))?;
    if !member {
        return Err(KeyReadError::Refused(format!(
            "{aggregator} is not in the aggregator operator set {id} of AVS {avs}"
        )));
    }
    let registry = KeyRegistrar::new(key_registrar, provider);
    let set = KeyRegistrar::OperatorSet { avs, id };
    let curve = registry
        .getOperatorSetCurveType(set.clone())
        .block(at)
        .call()
        .await
        .map_err(KeyReadError::node("curve type"))?;
    match curve {
        1 => registry
            .getECDSAAddress(set, aggregator)
            .block(at)
            .call()
            .await
            .map(RegisteredKey::Ecdsa)
            .map_err(KeyReadError::node("ECDSA key")),
        2 => {
            let key = registry
                .getBN254Key(set, aggregator)
                .block(at)
                .call()
                .await
                .map_err(KeyReadError::node("BN254 key"))?;
            let words = [
                key.g1Point.X,
                key.g1Point.Y,
                key.g2Point.X[0],
                key.g2Point.X[1],
                key.g2Point.Y[0],
                key.g2Point.Y[1],
            ];
            let mut data = [0u8; 192];
            for (chunk, word) in data.chunks_exact_mut(32).zip(words) {
                chunk.copy_from_slice(&word.to_be_bytes::<32>());
            }
            Ok(RegisteredKey::Bn254(data))
        }
        other => Err(KeyReadError::Refused(format!(
            "the aggregator operator set {id} of AVS {avs} has curve type {other}, not ECDSA or BN254"
        ))),
    }
}
