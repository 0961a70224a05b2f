//! Operator tables as the certificate verifiers store them, built from the ordered operator
//! list (the table calculator's order, which is the index order of non-signer witnesses).

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue;
use ark_bn254::G1Affine;

use crate::{
    CryptoError,
    bn254::{self, PublicKey},
    merkle::MerkleTree,
    types::{BN254OperatorInfo, BN254OperatorSetInfo, ECDSAOperatorInfo},
};

/// `OPERATOR_INFO_LEAF_SALT`, the first byte of keccak256("OPERATOR_INFO_LEAF_SALT").
pub const OPERATOR_INFO_LEAF_SALT: u8 = 0x75;

/// `calculateOperatorInfoLeaf`: keccak256(0x75 ++ abi.encode(info)).
pub fn operator_info_leaf(info: &BN254OperatorInfo) -> B256 {
    let encoded = info.abi_encode();
    let mut buf = Vec::with_capacity(1 + encoded.len());
    buf.push(OPERATOR_INFO_LEAF_SALT);
    buf.extend_from_slice(&encoded);
    keccak256(buf)
}

/// One operator of a BN254 table: its key (both halves) and weight per stake type.
#[derive(Debug, Clone)]
pub struct Bn254Operator {
    /// The operator's key; the table holds the G1 half, certificates use the G2 half.
    pub key: PublicKey,
    /// Weight per stake type.
    pub weights: Vec<U256>,
}

/// A BN254 operator table: the operators in index order, their salted leaves and Merkle tree,
/// and the `BN254OperatorSetInfo` the verifier stores.
#[derive(Debug, Clone)]
pub struct Bn254OperatorTable {
    operators: Vec<Bn254Operator>,
    infos: Vec<BN254OperatorInfo>,
    tree: MerkleTree,
    info: BN254OperatorSetInfo,
}

impl Bn254OperatorTable {
    /// Builds the table. Every operator must have the same number of stake types.
    pub fn new(operators: Vec<Bn254Operator>) -> Result<Self, CryptoError> {
        let stake_types = operators
            .first()
            .ok_or(CryptoError::EmptyTable)?
            .weights
            .len();
        let mut total = vec![U256::ZERO; stake_types];
        for (index, operator) in operators.iter().enumerate() {
            if operator.weights.len() != stake_types {
                return Err(CryptoError::WeightCountMismatch {
                    index,
                    got: operator.weights.len(),
                    expected: stake_types,
                });
            }
            for (sum, weight) in total.iter_mut().zip(&operator.weights) {
                *sum += *weight;
            }
        }
        let infos: Vec<_> = operators
            .iter()
            .map(|o| BN254OperatorInfo {
                pubkey: o.key.g1_point(),
                weights: o.weights.clone(),
            })
            .collect();
        let leaves: Vec<_> = infos.iter().map(operator_info_leaf).collect();
        let tree = MerkleTree::new(&leaves).ok_or(CryptoError::EmptyTable)?;
        let aggregate = bn254::aggregate_g1(operators.iter().map(|o| &o.key.g1));
        let info = BN254OperatorSetInfo {
            operatorInfoTreeRoot: tree.root(),
            numOperators: U256::from(operators.len()),
            aggregatePubkey: bn254::g1_to_point(&aggregate),
            totalWeights: total,
        };
        Ok(Self {
            operators,
            infos,
            tree,
            info,
        })
    }

    /// The table as the verifier stores it (`getOperatorSetInfo`).
    pub const fn info(&self) -> &BN254OperatorSetInfo {
        &self.info
    }

    /// The operators in index order.
    pub fn operators(&self) -> &[Bn254Operator] {
        &self.operators
    }

    /// The operator infos in index order (the calculator's `getOperatorInfos`).
    pub fn operator_infos(&self) -> &[BN254OperatorInfo] {
        &self.infos
    }

    /// The Merkle proof of operator `index`.
    pub fn proof(&self, index: usize) -> Option<Vec<u8>> {
        self.tree.proof(index)
    }

    /// The table's aggregate G1 key.
    pub fn aggregate_g1(&self) -> G1Affine {
        bn254::g1_from_point(&self.info.aggregatePubkey).unwrap_or_default()
    }
}

/// An ECDSA operator table (`ECDSAOperatorInfo[]`), from signing-key addresses and weights.
pub fn ecdsa_operator_infos(operators: &[(Address, Vec<U256>)]) -> Vec<ECDSAOperatorInfo> {
    operators
        .iter()
        .map(|(key, weights)| ECDSAOperatorInfo {
            pubkey: *key,
            weights: weights.clone(),
        })
        .collect()
}
