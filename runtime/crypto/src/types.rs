//! The Solidity structs that digests and certificates are encoded from, with EigenLayer's field
//! names and layout. `abi_encode` on a certificate gives the `executorCert` bytes that
//! `TaskMailbox.submitResult` expects.

#![allow(
    missing_docs,
    reason = "structs and fields are generated from their Solidity definitions"
)]

alloy_sol_types::sol! {
    /// An operator set: the AVS and its id.
    #[derive(Debug, Default, PartialEq, Eq, Hash)]
    struct OperatorSet { address avs; uint32 id; }

    /// What `TaskMailbox.createTask` takes.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct TaskParams { address refundCollector; OperatorSet executorOperatorSet; bytes payload; }

    /// A G1 point as the contracts hold it.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct G1Point { uint256 X; uint256 Y; }

    /// A G2 point in precompile order: `X = [x_imaginary, x_real]`, `Y = [y_imaginary, y_real]`.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct G2Point { uint256[2] X; uint256[2] Y; }

    /// One BN254 operator of a table.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct BN254OperatorInfo { G1Point pubkey; uint256[] weights; }

    /// A BN254 operator table as the verifier stores it.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct BN254OperatorSetInfo {
        bytes32 operatorInfoTreeRoot;
        uint256 numOperators;
        G1Point aggregatePubkey;
        uint256[] totalWeights;
    }

    /// One ECDSA operator of a table: its signing-key address and weights.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct ECDSAOperatorInfo { address pubkey; uint256[] weights; }

    /// A non-signer of a BN254 certificate, with its Merkle proof into the table.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct BN254OperatorInfoWitness {
        uint32 operatorIndex;
        bytes operatorInfoProof;
        BN254OperatorInfo operatorInfo;
    }

    /// A BN254 certificate.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct BN254Certificate {
        uint32 referenceTimestamp;
        bytes32 messageHash;
        G1Point signature;
        G2Point apk;
        BN254OperatorInfoWitness[] nonSignerWitnesses;
    }

    /// An ECDSA certificate: 65-byte signatures in ascending signer order.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct ECDSACertificate { uint32 referenceTimestamp; bytes32 messageHash; bytes sig; }
}
