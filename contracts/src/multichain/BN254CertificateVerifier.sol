// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {BN254} from "../libraries/BN254.sol";
import {BN254SignatureVerifier} from "../libraries/BN254SignatureVerifier.sol";
import {Merkle} from "../libraries/Merkle.sol";
import {IBN254CertificateVerifier} from "../interfaces/IBN254CertificateVerifier.sol";
import {IBaseCertificateVerifier} from "../interfaces/IBaseCertificateVerifier.sol";
import {IOperatorTableUpdater} from "../interfaces/IOperatorTableUpdater.sol";
import {LeafCalculatorMixin} from "./LeafCalculatorMixin.sol";
import {CertificateVerifierBase} from "./CertificateVerifierBase.sol";

/// @title BN254CertificateVerifier
/// @notice Verifies aggregate BLS certificates over BN254 against operator tables pushed by the
/// operator table updater. Same ABI, digest and rules as EigenLayer's verifier, so a certificate
/// accepted here is accepted there given the same table.
contract BN254CertificateVerifier is CertificateVerifierBase, LeafCalculatorMixin, IBN254CertificateVerifier {
    using OperatorSetLib for OperatorSet;
    using BN254 for BN254.G1Point;

    bytes32 internal constant BN254_CERTIFICATE_TYPEHASH =
        keccak256("BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)");
    uint256 internal constant PAIRING_EQUALITY_CHECK_GAS = 400_000;

    mapping(bytes32 => mapping(uint32 => BN254OperatorSetInfo)) internal _operatorSetInfos;
    /// @dev Non-signer infos proven once by a Merkle witness, by (set, reference timestamp, index).
    mapping(bytes32 => mapping(uint32 => mapping(uint256 => BN254OperatorInfo))) internal _operatorInfos;

    uint256[48] private __gap;

    constructor(IOperatorTableUpdater _operatorTableUpdater) CertificateVerifierBase(_operatorTableUpdater) {}

    /// @inheritdoc IBN254CertificateVerifier
    function updateOperatorTable(
        OperatorSet calldata operatorSet,
        uint32 referenceTimestamp,
        BN254OperatorSetInfo memory operatorSetInfo,
        OperatorSetConfig calldata operatorSetConfig
    ) external onlyTableUpdater {
        bytes32 key = operatorSet.key();
        _recordTableUpdate(key, referenceTimestamp, operatorSetConfig);
        _operatorSetInfos[key][referenceTimestamp] = operatorSetInfo;

        emit TableUpdated(operatorSet, referenceTimestamp, operatorSetInfo);
    }

    /// @inheritdoc IBN254CertificateVerifier
    function verifyCertificate(OperatorSet memory operatorSet, BN254Certificate memory cert)
        external
        returns (uint256[] memory)
    {
        return _verifyCertificate(operatorSet, cert);
    }

    /// @inheritdoc IBN254CertificateVerifier
    function verifyCertificateProportion(
        OperatorSet memory operatorSet,
        BN254Certificate memory cert,
        uint16[] memory totalStakeProportionThresholds
    ) external returns (bool) {
        uint256[] memory signed = _verifyCertificate(operatorSet, cert);
        uint256[] memory total = _operatorSetInfos[operatorSet.key()][cert.referenceTimestamp].totalWeights;
        return _meetsProportion(signed, total, totalStakeProportionThresholds);
    }

    /// @inheritdoc IBN254CertificateVerifier
    function verifyCertificateNominal(
        OperatorSet memory operatorSet,
        BN254Certificate memory cert,
        uint256[] memory totalStakeNominalThresholds
    ) external returns (bool) {
        return _meetsNominal(_verifyCertificate(operatorSet, cert), totalStakeNominalThresholds);
    }

    /// @inheritdoc IBN254CertificateVerifier
    /// @dev As upstream, the two names are swapped relative to what they hold; both must be true.
    function trySignatureVerification(
        bytes32 msgHash,
        BN254.G1Point memory aggPubkey,
        BN254.G2Point memory apkG2,
        BN254.G1Point memory signature
    ) public view returns (bool pairingSuccessful, bool signatureValid) {
        return BN254SignatureVerifier.verifySignature(
            msgHash, signature, aggPubkey, apkG2, true, PAIRING_EQUALITY_CHECK_GAS
        );
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IBaseCertificateVerifier
    function getTotalStakeWeights(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (uint256[] memory)
    {
        return _operatorSetInfos[operatorSet.key()][referenceTimestamp].totalWeights;
    }

    /// @inheritdoc IBaseCertificateVerifier
    function getOperatorCount(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (uint256)
    {
        return _operatorSetInfos[operatorSet.key()][referenceTimestamp].numOperators;
    }

    /// @inheritdoc IBN254CertificateVerifier
    function getNonsignerOperatorInfo(OperatorSet memory operatorSet, uint32 referenceTimestamp, uint256 operatorIndex)
        external
        view
        returns (BN254OperatorInfo memory)
    {
        return _operatorInfos[operatorSet.key()][referenceTimestamp][operatorIndex];
    }

    /// @inheritdoc IBN254CertificateVerifier
    function isNonsignerCached(OperatorSet memory operatorSet, uint32 referenceTimestamp, uint256 operatorIndex)
        external
        view
        returns (bool)
    {
        BN254.G1Point memory pubkey = _operatorInfos[operatorSet.key()][referenceTimestamp][operatorIndex].pubkey;
        return pubkey.X != 0 && pubkey.Y != 0;
    }

    /// @inheritdoc IBN254CertificateVerifier
    function getOperatorSetInfo(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (BN254OperatorSetInfo memory)
    {
        return _operatorSetInfos[operatorSet.key()][referenceTimestamp];
    }

    /// @inheritdoc IBN254CertificateVerifier
    function calculateCertificateDigest(uint32 referenceTimestamp, bytes32 messageHash) public pure returns (bytes32) {
        return keccak256(abi.encode(BN254_CERTIFICATE_TYPEHASH, referenceTimestamp, messageHash));
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _verifyCertificate(OperatorSet memory operatorSet, BN254Certificate memory cert)
        internal
        returns (uint256[] memory signed)
    {
        bytes32 key = operatorSet.key();
        _validateReferenceTimestamp(key, cert.referenceTimestamp);

        BN254OperatorSetInfo memory info = _operatorSetInfos[key][cert.referenceTimestamp];
        signed = new uint256[](info.totalWeights.length);
        for (uint256 i = 0; i < signed.length; ++i) {
            signed[i] = info.totalWeights[i];
        }

        BN254.G1Point memory nonSignerApk = _processNonSigners(key, cert.referenceTimestamp, info, cert, signed);
        BN254.G1Point memory signerApk = info.aggregatePubkey.plus(nonSignerApk.negate());

        (bool pairingSuccessful, bool signatureValid) = trySignatureVerification(
            calculateCertificateDigest(cert.referenceTimestamp, cert.messageHash), signerApk, cert.apk, cert.signature
        );
        require(pairingSuccessful && signatureValid, VerificationFailed());
    }

    /// @dev Checks each non-signer witness (sorted, in range, in the table's Merkle tree unless
    /// cached), caches proven infos, subtracts their weights from `signed` and returns their
    /// aggregate G1 key.
    function _processNonSigners(
        bytes32 key,
        uint32 referenceTimestamp,
        BN254OperatorSetInfo memory info,
        BN254Certificate memory cert,
        uint256[] memory signed
    ) internal returns (BN254.G1Point memory nonSignerApk) {
        for (uint256 i = 0; i < cert.nonSignerWitnesses.length; ++i) {
            BN254OperatorInfoWitness memory witness = cert.nonSignerWitnesses[i];
            require(
                i == 0 || witness.operatorIndex > cert.nonSignerWitnesses[i - 1].operatorIndex,
                NonSignerIndicesNotSorted()
            );
            require(witness.operatorIndex < info.numOperators, InvalidOperatorIndex());

            BN254OperatorInfo memory operatorInfo = _operatorInfos[key][referenceTimestamp][witness.operatorIndex];
            if (operatorInfo.pubkey.X == 0 && operatorInfo.pubkey.Y == 0) {
                bool proven = Merkle.verifyInclusionKeccak(
                    witness.operatorInfoProof,
                    info.operatorInfoTreeRoot,
                    calculateOperatorInfoLeaf(witness.operatorInfo),
                    witness.operatorIndex
                );
                require(proven, VerificationFailed());
                operatorInfo = witness.operatorInfo;
                _operatorInfos[key][referenceTimestamp][witness.operatorIndex] = operatorInfo;
            }

            nonSignerApk = nonSignerApk.plus(operatorInfo.pubkey);
            for (uint256 j = 0; j < signed.length; ++j) {
                signed[j] -= operatorInfo.weights[j];
            }
        }
    }
}
