//! Certificates for `TaskMailbox.submitResult`: a BN254 certificate (aggregate signature, G2 key
//! of exactly the signers, a Merkle witness for every non-signer, sorted by index) or an ECDSA
//! certificate (65-byte signatures in ascending signer order), plus the stake-threshold check
//! that decides whether one is worth submitting.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolValue;

use crate::{
    CryptoError,
    bn254::{self, Signature},
    table::Bn254OperatorTable,
    types::{BN254Certificate, BN254OperatorInfoWitness, ECDSACertificate},
};

/// `BPS_DENOMINATOR`: thresholds are in basis points.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// Whether `signed` meets `total * bps / 10000` for every stake type, as
/// `verifyCertificateProportion` decides (integer division, rounding the threshold down).
pub fn meets_threshold(signed: &[U256], total: &[U256], bps: u16) -> bool {
    signed.len() == total.len()
        && signed
            .iter()
            .zip(total)
            .all(|(s, t)| *s >= *t * U256::from(bps) / U256::from(BPS_DENOMINATOR))
}

/// A BN254 certificate and the weight its signers carry.
#[derive(Debug, Clone)]
pub struct Bn254CertificateBuild {
    /// The certificate.
    pub certificate: BN254Certificate,
    /// The signers' weight per stake type: the table's total minus the non-signers'.
    pub signed_weights: Vec<U256>,
}

impl Bn254CertificateBuild {
    /// The `executorCert` bytes for `submitResult`: `abi.encode(certificate)`.
    pub fn encode(&self) -> Bytes {
        self.certificate.abi_encode().into()
    }
}

/// Builds a BN254 certificate over `message_hash` against `table` (pinned at
/// `reference_timestamp`) from the signatures of the operators at the given table indices.
/// Signatures are taken as given: check each one before it gets here.
pub fn build_bn254_certificate(
    table: &Bn254OperatorTable,
    reference_timestamp: u32,
    message_hash: B256,
    signatures: &[(usize, Signature)],
) -> Result<Bn254CertificateBuild, CryptoError> {
    if signatures.is_empty() {
        return Err(CryptoError::NoSigners);
    }
    let operators = table.operators();
    let mut signed = vec![false; operators.len()];
    for (index, _) in signatures {
        let slot = signed.get_mut(*index).ok_or(CryptoError::UnknownSigner {
            index: *index,
            operators: operators.len(),
        })?;
        if std::mem::replace(slot, true) {
            return Err(CryptoError::DuplicateSigner(format!("at index {index}")));
        }
    }

    let signature = bn254::aggregate_signatures(signatures.iter().map(|(_, s)| s));
    let apk = bn254::aggregate_g2(signatures.iter().map(|(i, _)| &operators[*i].key.g2));

    let mut signed_weights = table.info().totalWeights.clone();
    let mut witnesses = Vec::new();
    for (index, _) in signed.iter().enumerate().filter(|(_, signed)| !**signed) {
        let info = table.operator_infos()[index].clone();
        for (weight, own) in signed_weights.iter_mut().zip(&info.weights) {
            *weight -= *own;
        }
        witnesses.push(BN254OperatorInfoWitness {
            operatorIndex: index as u32,
            operatorInfoProof: table.proof(index).unwrap_or_default().into(),
            operatorInfo: info,
        });
    }

    Ok(Bn254CertificateBuild {
        certificate: BN254Certificate {
            referenceTimestamp: reference_timestamp,
            messageHash: message_hash,
            signature: signature.to_point(),
            apk: bn254::g2_to_point(&apk),
            nonSignerWitnesses: witnesses,
        },
        signed_weights,
    })
}

/// Builds an ECDSA certificate from signatures keyed by their signing-key address (recovered
/// and checked before they get here): sorted ascending by address and concatenated.
pub fn build_ecdsa_certificate(
    reference_timestamp: u32,
    message_hash: B256,
    signatures: &[(Address, [u8; 65])],
) -> Result<ECDSACertificate, CryptoError> {
    if signatures.is_empty() {
        return Err(CryptoError::NoSigners);
    }
    let mut sorted = BTreeMap::new();
    for (signer, signature) in signatures {
        if sorted.insert(*signer, signature).is_some() {
            return Err(CryptoError::DuplicateSigner(signer.to_string()));
        }
    }
    let mut sig = Vec::with_capacity(65 * sorted.len());
    for signature in sorted.values() {
        sig.extend_from_slice(signature.as_slice());
    }
    Ok(ECDSACertificate {
        referenceTimestamp: reference_timestamp,
        messageHash: message_hash,
        sig: sig.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bn254::SecretKey, digest, ecdsa, merkle, table::Bn254Operator, table::operator_info_leaf,
    };

    fn table(n: usize) -> (Vec<SecretKey>, Bn254OperatorTable) {
        let keys: Vec<_> = (0..n)
            .map(|i| SecretKey::from_seed(format!("op{i}").as_bytes()).unwrap())
            .collect();
        let operators = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Bn254Operator {
                key: k.public_key(),
                weights: vec![U256::from(100 + i)],
            })
            .collect();
        (keys, Bn254OperatorTable::new(operators).unwrap())
    }

    #[test]
    fn bn254_certificate_with_non_signers_verifies_like_the_contract() {
        let (keys, table) = table(5);
        let message = B256::repeat_byte(9);
        let digest = digest::bn254_certificate_digest(77, message);
        let signers = [0usize, 2, 4];
        let sigs: Vec<_> = signers.iter().map(|&i| (i, keys[i].sign(digest))).collect();
        let build = build_bn254_certificate(&table, 77, message, &sigs).unwrap();
        let cert = &build.certificate;

        let indices: Vec<_> = cert
            .nonSignerWitnesses
            .iter()
            .map(|w| w.operatorIndex)
            .collect();
        assert_eq!(indices, [1, 3], "non-signers sorted by index");
        for witness in &cert.nonSignerWitnesses {
            assert!(merkle::verify(
                &witness.operatorInfoProof,
                table.info().operatorInfoTreeRoot,
                operator_info_leaf(&witness.operatorInfo),
                witness.operatorIndex as usize
            ));
        }
        assert_eq!(build.signed_weights, [U256::from(100 + 102 + 104)]);

        // What the verifier does: subtract the non-signers from the table's aggregate key.
        let keys: Vec<_> = cert
            .nonSignerWitnesses
            .iter()
            .map(|w| bn254::g1_from_point(&w.operatorInfo.pubkey).unwrap())
            .collect();
        let non_signers = bn254::aggregate_g1(&keys);
        let signer_apk = (table.aggregate_g1() - non_signers).into();
        let sig = bn254::g1_from_point(&cert.signature).unwrap();
        let apk = bn254::g2_from_point(&cert.apk).unwrap();
        assert!(bn254::verify_like_contract(digest, &sig, &signer_apk, &apk));
        assert!(
            build.encode().starts_with(&[0u8; 31]),
            "abi.encode of one dynamic struct starts with its offset"
        );
    }

    #[test]
    fn bn254_certificate_rejects_bad_signer_lists() {
        let (keys, table) = table(2);
        let sig = keys[0].sign(B256::ZERO);
        assert!(matches!(
            build_bn254_certificate(&table, 1, B256::ZERO, &[]),
            Err(CryptoError::NoSigners)
        ));
        assert!(matches!(
            build_bn254_certificate(&table, 1, B256::ZERO, &[(0, sig), (0, sig)]),
            Err(CryptoError::DuplicateSigner(_))
        ));
        assert!(matches!(
            build_bn254_certificate(&table, 1, B256::ZERO, &[(2, sig)]),
            Err(CryptoError::UnknownSigner {
                index: 2,
                operators: 2
            })
        ));
    }

    #[test]
    fn ecdsa_certificate_sorts_by_signer() {
        let keys: Vec<_> = (1u8..=4)
            .map(|i| ecdsa::SecretKey::from_bytes(&[i; 32]).unwrap())
            .collect();
        let digest = B256::repeat_byte(1);
        let sigs: Vec<_> = keys
            .iter()
            .map(|k| (k.address(), k.sign(digest).unwrap()))
            .collect();
        let cert = build_ecdsa_certificate(3, B256::ZERO, &sigs).unwrap();
        let recovered: Vec<_> = cert
            .sig
            .chunks(65)
            .map(|s| ecdsa::recover(digest, s).unwrap())
            .collect();
        assert!(recovered.windows(2).all(|w| w[0] < w[1]));
        assert!(matches!(
            build_ecdsa_certificate(3, B256::ZERO, &[sigs[0], sigs[0]]),
            Err(CryptoError::DuplicateSigner(_))
        ));
    }

    #[test]
    fn threshold_rounds_down_like_the_verifier() {
        let total = [U256::from(406)];
        assert!(meets_threshold(&[U256::from(303)], &total, 7000));
        assert!(!meets_threshold(&[U256::from(303)], &total, 7500));
        assert!(
            meets_threshold(&[U256::from(284)], &total, 7000),
            "406 * 0.7 = 284.2 rounds to 284"
        );
        assert!(!meets_threshold(&[U256::from(283)], &total, 7000));
        assert!(!meets_threshold(&[], &total, 0), "stake types must match");
    }
}
