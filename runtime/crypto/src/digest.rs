//! Every digest Ponos signs or checks, as pure functions of their inputs, equal to the
//! contracts' views (`getMessageHash`, `calculateCertificateDigest`, the KeyRegistrar's
//! registration hashes). The runtime computes them locally; it never asks a node.

use alloy_primitives::{Address, B256, Bytes, U256, b256, keccak256};
use alloy_sol_types::SolValue;

use crate::types::{OperatorSet, TaskParams};

/// keccak256("BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)").
pub const BN254_CERTIFICATE_TYPEHASH: B256 =
    b256!("d9f77a423768f4b0526fa60a7c732334516a93f1d228dce50ad804ea74ced36e");
/// keccak256("ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)").
pub const ECDSA_CERTIFICATE_TYPEHASH: B256 =
    b256!("da346acb3ce99e7c5132bf8cafb159ad8085970ebfdba78007ef0fe163063d14");
/// keccak256("EIP712Domain(string name,string version,address verifyingContract)").
pub const EIP712_DOMAIN_TYPEHASH_NO_CHAINID: B256 =
    b256!("91ab3d17e3a50a9d89e63fd30b92be7f5336b03b287bb946787a83a9d62a2766");
/// keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)").
pub const EIP712_DOMAIN_TYPEHASH: B256 =
    b256!("8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");
/// keccak256("ECDSAKeyRegistration(address operator,address avs,uint32 operatorSetId,address keyAddress)").
pub const ECDSA_KEY_REGISTRATION_TYPEHASH: B256 =
    b256!("991b0a3376ce87f8ecc5d70962279ac09cdce934e8b5b9683e73c8ff087c7f81");
/// keccak256("BN254KeyRegistration(address operator,address avs,uint32 operatorSetId,bytes keyData)").
pub const BN254_KEY_REGISTRATION_TYPEHASH: B256 =
    b256!("da86e76deaed01641f80ff5f72c372a038fa5182697aeb967e8b1f9819d58d81");
/// keccak256("EigenLayer"), the EIP-712 domain name.
pub const EIGENLAYER_NAME_HASH: B256 =
    b256!("71b625cfad44bac63b13dba07f2e1d6084ee04b6f8752101ece6126d584ee6ea");

/// `TaskMailbox` task hash: keccak256(abi.encode(taskCount, mailbox, chainId, taskParams)).
pub fn task_hash(task_count: U256, mailbox: Address, chain_id: U256, params: &TaskParams) -> B256 {
    keccak256((task_count, mailbox, chain_id, params.clone()).abi_encode_params())
}

/// `TaskMailbox.getMessageHash`: keccak256(abi.encode(taskHash, result)).
pub fn message_hash(task_hash: B256, result: &Bytes) -> B256 {
    keccak256((task_hash, result.clone()).abi_encode_params())
}

/// `BN254CertificateVerifier.calculateCertificateDigest`: keccak256(abi.encode(typehash,
/// referenceTimestamp, messageHash)); no domain, so the same on every chain.
pub fn bn254_certificate_digest(reference_timestamp: u32, message_hash: B256) -> B256 {
    keccak256(
        (
            BN254_CERTIFICATE_TYPEHASH,
            U256::from(reference_timestamp),
            message_hash,
        )
            .abi_encode_params(),
    )
}

/// The EIP-712 domain of an ECDSA certificate verifier: name "EigenLayer", the major version
/// (first character of `version`), the verifier's address, and no chain id.
pub fn ecdsa_verifier_domain(verifier: Address, version: &str) -> B256 {
    keccak256(
        (
            EIP712_DOMAIN_TYPEHASH_NO_CHAINID,
            EIGENLAYER_NAME_HASH,
            keccak256(major(version)),
            verifier,
        )
            .abi_encode_params(),
    )
}

/// `ECDSACertificateVerifier.calculateCertificateDigestBytes`: 0x1901 ++ domain ++ structHash.
pub fn ecdsa_certificate_digest_bytes(
    verifier: Address,
    version: &str,
    reference_timestamp: u32,
    message_hash: B256,
) -> [u8; 66] {
    let struct_hash = keccak256(
        (
            ECDSA_CERTIFICATE_TYPEHASH,
            U256::from(reference_timestamp),
            message_hash,
        )
            .abi_encode_params(),
    );
    eip712(ecdsa_verifier_domain(verifier, version), struct_hash)
}

/// `ECDSACertificateVerifier.calculateCertificateDigest`: keccak256 of the digest bytes.
pub fn ecdsa_certificate_digest(
    verifier: Address,
    version: &str,
    reference_timestamp: u32,
    message_hash: B256,
) -> B256 {
    keccak256(ecdsa_certificate_digest_bytes(
        verifier,
        version,
        reference_timestamp,
        message_hash,
    ))
}

/// What the aggregator signs for one executor (Hourglass' task submission message, 224 bytes):
/// taskId ‖ avs ‖ executor ‖ operatorSetId ‖ referenceTimestamp ‖ L1 reference block ‖
/// keccak256(payload), each a 32-byte word. Signatures are over `keccak256` of these bytes.
pub fn task_submission_message(
    task_id: B256,
    avs: Address,
    executor: Address,
    operator_set_id: u32,
    reference_timestamp: u32,
    reference_block: u64,
    payload: &[u8],
) -> [u8; 224] {
    let words = (
        task_id,
        avs,
        executor,
        U256::from(operator_set_id),
        U256::from(reference_timestamp),
        U256::from(reference_block),
        keccak256(payload),
    )
        .abi_encode_params();
    let mut out = [0u8; 224];
    out.copy_from_slice(&words);
    out
}

/// What an operator signs to bind its result signature to itself (Hourglass' auth signature
/// message, 160 bytes): taskId ‖ avs ‖ operator ‖ operatorSetId ‖ keccak256(resultSignature).
pub fn result_auth_message(
    task_id: B256,
    avs: Address,
    operator: Address,
    operator_set_id: u32,
    result_signature: &[u8],
) -> [u8; 160] {
    let words = (
        task_id,
        avs,
        operator,
        U256::from(operator_set_id),
        keccak256(result_signature),
    )
        .abi_encode_params();
    let mut out = [0u8; 160];
    out.copy_from_slice(&words);
    out
}

/// What an operator's management key signs to call an executor or aggregator management method:
/// keccak256("ponos/management" ‖ challenge token ‖ method ‖ keccak256 of the request's fields).
/// Binding the method and the request means a signature cannot be replayed on another call.
pub fn management_digest(challenge_token: &str, method: &str, request_fields: &[&[u8]]) -> B256 {
    let mut request = Vec::new();
    for field in request_fields {
        request.extend_from_slice(&(field.len() as u64).to_be_bytes());
        request.extend_from_slice(field);
    }
    let mut message = b"ponos/management".to_vec();
    for part in [challenge_token.as_bytes(), method.as_bytes()] {
        message.extend_from_slice(&(part.len() as u64).to_be_bytes());
        message.extend_from_slice(part);
    }
    message.extend_from_slice(keccak256(request).as_slice());
    keccak256(message)
}

/// Where a key registration is addressed: the KeyRegistrar and its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRegistrarDomain<'a> {
    /// The chain the KeyRegistrar lives on.
    pub chain_id: u64,
    /// The KeyRegistrar's address.
    pub key_registrar: Address,
    /// Its release version (the domain takes the first character).
    pub version: &'a str,
}

impl KeyRegistrarDomain<'_> {
    /// The EIP-712 domain separator (with chain id).
    pub fn separator(&self) -> B256 {
        keccak256(
            (
                EIP712_DOMAIN_TYPEHASH,
                EIGENLAYER_NAME_HASH,
                keccak256(major(self.version)),
                U256::from(self.chain_id),
                self.key_registrar,
            )
                .abi_encode_params(),
        )
    }

    /// `getECDSAKeyRegistrationMessageHash(operator, operatorSet, keyAddress)`.
    pub fn ecdsa_registration_digest(
        &self,
        operator: Address,
        set: &OperatorSet,
        key: Address,
    ) -> B256 {
        let struct_hash = keccak256(
            (
                ECDSA_KEY_REGISTRATION_TYPEHASH,
                operator,
                set.avs,
                U256::from(set.id),
                key,
            )
                .abi_encode_params(),
        );
        keccak256(eip712(self.separator(), struct_hash))
    }

    /// `getBN254KeyRegistrationMessageHash(operator, operatorSet, keyData)`.
    pub fn bn254_registration_digest(
        &self,
        operator: Address,
        set: &OperatorSet,
        key_data: &[u8],
    ) -> B256 {
        let struct_hash = keccak256(
            (
                BN254_KEY_REGISTRATION_TYPEHASH,
                operator,
                set.avs,
                U256::from(set.id),
                keccak256(key_data),
            )
                .abi_encode_params(),
        );
        keccak256(eip712(self.separator(), struct_hash))
    }
}

fn eip712(domain: B256, struct_hash: B256) -> [u8; 66] {
    let mut out = [0u8; 66];
    out[..2].copy_from_slice(b"\x19\x01");
    out[2..34].copy_from_slice(domain.as_slice());
    out[34..].copy_from_slice(struct_hash.as_slice());
    out
}

/// The domain version EigenLayer derives from a release version: its first character.
fn major(version: &str) -> &str {
    version.get(..1).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typehashes_are_the_keccak_of_their_types() {
        for (constant, ty) in [
            (
                BN254_CERTIFICATE_TYPEHASH,
                "BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)",
            ),
            (
                ECDSA_CERTIFICATE_TYPEHASH,
                "ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)",
            ),
            (
                EIP712_DOMAIN_TYPEHASH_NO_CHAINID,
                "EIP712Domain(string name,string version,address verifyingContract)",
            ),
            (
                EIP712_DOMAIN_TYPEHASH,
                "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
            ),
            (
                ECDSA_KEY_REGISTRATION_TYPEHASH,
                "ECDSAKeyRegistration(address operator,address avs,uint32 operatorSetId,address keyAddress)",
            ),
            (
                BN254_KEY_REGISTRATION_TYPEHASH,
                "BN254KeyRegistration(address operator,address avs,uint32 operatorSetId,bytes keyData)",
            ),
            (EIGENLAYER_NAME_HASH, "EigenLayer"),
        ] {
            assert_eq!(constant, keccak256(ty), "{ty}");
        }
    }

    #[test]
    fn reference_vectors() {
        let task = keccak256("example-task");
        assert_eq!(
            task,
            b256!("24c43b0c66feb087dfb5fb8d731db16cd620f76475ed68b81c1aba9de302a646")
        );
        let message = message_hash(task, &Bytes::from_static(b"hello"));
        assert_eq!(
            message,
            b256!("f6529792f49abacfc666a7d8ee420c36b48b92701cdb8007cc346ef260d7549d")
        );
        assert_eq!(
            bn254_certificate_digest(1_700_000_000, message),
            b256!("8794170f5d0b4e758473f0e72def9d3c575ffc12a462a03bf0d9f7b3015b3028")
        );
    }

    #[test]
    fn task_hash_preimage_is_the_params_encoding() {
        let params = TaskParams {
            refundCollector: Address::repeat_byte(0xaa),
            executorOperatorSet: OperatorSet {
                avs: Address::repeat_byte(0xbb),
                id: 1,
            },
            payload: Bytes::from_static(b"job"),
        };
        let word = |v: u64| U256::from(v).to_be_bytes::<32>().to_vec();
        let address = |a: Address| [vec![0u8; 12], a.to_vec()].concat();
        let mailbox = Address::repeat_byte(0xcc);
        let mut payload = b"job".to_vec();
        payload.resize(32, 0);
        // count | mailbox | chainId | 0x80 | refundCollector | avs | id | 0x80 | len | payload
        let preimage = [
            word(5),
            address(mailbox),
            word(31337),
            word(0x80),
            address(params.refundCollector),
            address(params.executorOperatorSet.avs),
            word(1),
            word(0x80),
            word(3),
            payload,
        ]
        .concat();
        assert_eq!(
            task_hash(U256::from(5), mailbox, U256::from(31337), &params),
            keccak256(preimage)
        );
    }

    #[test]
    fn task_messages_are_fixed_words() {
        let message = task_submission_message(
            B256::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            4,
            5,
            6,
            b"payload",
        );
        assert_eq!(&message[..32], B256::repeat_byte(1).as_slice());
        assert_eq!(&message[44..64], Address::repeat_byte(2).as_slice());
        assert_eq!(&message[76..96], Address::repeat_byte(3).as_slice());
        assert_eq!(message[127], 4);
        assert_eq!(message[159], 5);
        assert_eq!(message[191], 6);
        assert_eq!(&message[192..], keccak256(b"payload").as_slice());
        let auth = result_auth_message(
            B256::ZERO,
            Address::ZERO,
            Address::repeat_byte(9),
            1,
            b"sig",
        );
        assert_eq!(&auth[76..96], Address::repeat_byte(9).as_slice());
        assert_eq!(&auth[128..], keccak256(b"sig").as_slice());
    }

    #[test]
    fn ecdsa_digest_has_no_chain_id_but_the_verifier() {
        let a = ecdsa_certificate_digest(Address::repeat_byte(1), "1.8.1", 5, B256::ZERO);
        let b = ecdsa_certificate_digest(Address::repeat_byte(2), "1.8.1", 5, B256::ZERO);
        assert_ne!(a, b, "the verifier address is in the domain");
        assert_eq!(
            a,
            ecdsa_certificate_digest(Address::repeat_byte(1), "1.9.0", 5, B256::ZERO),
            "major only"
        );
        assert_eq!(
            ecdsa_certificate_digest_bytes(Address::ZERO, "1", 0, B256::ZERO)[..2],
            [0x19, 0x01]
        );
    }
}
