// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {IECDSACertificateVerifier} from "../interfaces/IECDSACertificateVerifier.sol";
import {IBaseCertificateVerifier} from "../interfaces/IBaseCertificateVerifier.sol";
import {IOperatorTableUpdater} from "../interfaces/IOperatorTableUpdater.sol";
import {ISignatureUtilsMixin} from "../interfaces/ISignatureUtilsMixin.sol";
import {SemVer} from "../libraries/SemVer.sol";
import {CertificateVerifierBase} from "./CertificateVerifierBase.sol";

/// @title ECDSACertificateVerifier
/// @notice Verifies ECDSA certificates (concatenated 65-byte signatures in ascending signer
/// order) against operator tables pushed by the operator table updater. Same ABI, EIP-712 digest
/// (no chain id, so certificates carry across chains) and rules as EigenLayer's verifier.
contract ECDSACertificateVerifier is CertificateVerifierBase, IECDSACertificateVerifier, ISignatureUtilsMixin {
    using OperatorSetLib for OperatorSet;

    bytes32 internal constant ECDSA_CERTIFICATE_TYPEHASH =
        keccak256("ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)");
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH_NO_CHAINID =
        keccak256("EIP712Domain(string name,string version,address verifyingContract)");
    string internal _version;

    mapping(bytes32 => mapping(uint32 => uint256)) internal _numOperators;
    mapping(bytes32 => mapping(uint32 => mapping(uint256 => ECDSAOperatorInfo))) internal _operatorInfos;

    uint256[47] private __gap;

    /// @param version_ The release version; its first character is the EIP-712 domain version
    /// (EigenLayer's deployments use "1.x.y").
    constructor(IOperatorTableUpdater _operatorTableUpdater, string memory version_)
        CertificateVerifierBase(_operatorTableUpdater)
    {
        _version = version_;
    }

    /// @inheritdoc IECDSACertificateVerifier
    function updateOperatorTable(
        OperatorSet calldata operatorSet,
        uint32 referenceTimestamp,
        ECDSAOperatorInfo[] calldata operatorInfos,
        OperatorSetConfig calldata operatorSetConfig
    ) external onlyTableUpdater {
        bytes32 key = operatorSet.key();
        _recordTableUpdate(key, referenceTimestamp, operatorSetConfig);
        _numOperators[key][referenceTimestamp] = operatorInfos.length;
        for (uint256 i = 0; i < operatorInfos.length; ++i) {
            _operatorInfos[key][referenceTimestamp][i] = operatorInfos[i];
        }

        emit TableUpdated(operatorSet, referenceTimestamp, operatorInfos);
    }

    /// @inheritdoc IECDSACertificateVerifier
    function verifyCertificate(OperatorSet calldata operatorSet, ECDSACertificate memory cert)
        external
        view
        returns (uint256[] memory, address[] memory)
    {
        return _verifyCertificate(operatorSet, cert);
    }

    /// @inheritdoc IECDSACertificateVerifier
    function verifyCertificateProportion(
        OperatorSet calldata operatorSet,
        ECDSACertificate memory cert,
        uint16[] memory totalStakeProportionThresholds
    ) external view returns (bool, address[] memory) {
        (uint256[] memory signed, address[] memory signers) = _verifyCertificate(operatorSet, cert);
        uint256[] memory total = _totalStakeWeights(operatorSet.key(), cert.referenceTimestamp);
        return (_meetsProportion(signed, total, totalStakeProportionThresholds), signers);
    }

    /// @inheritdoc IECDSACertificateVerifier
    function verifyCertificateNominal(
        OperatorSet calldata operatorSet,
        ECDSACertificate memory cert,
        uint256[] memory totalStakeNominalThresholds
    ) external view returns (bool, address[] memory) {
        (uint256[] memory signed, address[] memory signers) = _verifyCertificate(operatorSet, cert);
        return (_meetsNominal(signed, totalStakeNominalThresholds), signers);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IBaseCertificateVerifier
    /// @dev Reverts `OperatorCountZero` when the table is empty.
    function getTotalStakeWeights(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (uint256[] memory)
    {
        return _totalStakeWeights(operatorSet.key(), referenceTimestamp);
    }

    /// @inheritdoc IBaseCertificateVerifier
    function getOperatorCount(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (uint256)
    {
        return _numOperators[operatorSet.key()][referenceTimestamp];
    }

    /// @inheritdoc IECDSACertificateVerifier
    function getOperatorInfos(OperatorSet calldata operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (ECDSAOperatorInfo[] memory infos)
    {
        bytes32 key = operatorSet.key();
        infos = new ECDSAOperatorInfo[](_numOperators[key][referenceTimestamp]);
        for (uint256 i = 0; i < infos.length; ++i) {
            infos[i] = _operatorInfos[key][referenceTimestamp][i];
        }
    }

    /// @inheritdoc IECDSACertificateVerifier
    function getOperatorInfo(OperatorSet calldata operatorSet, uint32 referenceTimestamp, uint256 operatorIndex)
        external
        view
        returns (ECDSAOperatorInfo memory)
    {
        bytes32 key = operatorSet.key();
        require(operatorIndex < _numOperators[key][referenceTimestamp], IndexOutOfBounds());
        return _operatorInfos[key][referenceTimestamp][operatorIndex];
    }

    /// @inheritdoc IECDSACertificateVerifier
    function domainSeparator() public view override(IECDSACertificateVerifier, ISignatureUtilsMixin) returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH_NO_CHAINID,
                keccak256(bytes("EigenLayer")),
                keccak256(bytes(SemVer.major(_version))),
                address(this)
            )
        );
    }

    /// @inheritdoc ISignatureUtilsMixin
    function version() external view returns (string memory) {
        return _version;
    }

    /// @inheritdoc IECDSACertificateVerifier
    function calculateCertificateDigestBytes(uint32 referenceTimestamp, bytes32 messageHash)
        public
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(abi.encode(ECDSA_CERTIFICATE_TYPEHASH, referenceTimestamp, messageHash));
        return abi.encodePacked("\x19\x01", domainSeparator(), structHash);
    }

    /// @inheritdoc IECDSACertificateVerifier
    function calculateCertificateDigest(uint32 referenceTimestamp, bytes32 messageHash) public view returns (bytes32) {
        return keccak256(calculateCertificateDigestBytes(referenceTimestamp, messageHash));
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _verifyCertificate(OperatorSet calldata operatorSet, ECDSACertificate memory cert)
        internal
        view
        returns (uint256[] memory signed, address[] memory signers)
    {
        bytes32 key = operatorSet.key();
        _validateReferenceTimestamp(key, cert.referenceTimestamp);

        signers = _recoverSigners(calculateCertificateDigest(cert.referenceTimestamp, cert.messageHash), cert.sig);
        signed = _signedWeights(key, cert.referenceTimestamp, signers);
    }

    /// @dev Splits `sig` into 65-byte signatures and recovers each signer; signers must be
    /// strictly ascending, which also rules out duplicates.
    function _recoverSigners(bytes32 digest, bytes memory sig) internal pure returns (address[] memory signers) {
        require(sig.length > 0 && sig.length % 65 == 0, InvalidSignatureLength());
        signers = new address[](sig.length / 65);
        for (uint256 i = 0; i < signers.length; ++i) {
            bytes memory one = new bytes(65);
            for (uint256 b = 0; b < 65; ++b) {
                one[b] = sig[i * 65 + b];
            }
            (address signer, ECDSA.RecoverError error) = ECDSA.tryRecover(digest, one);
            require(error == ECDSA.RecoverError.NoError, InvalidSignature());
            require(i == 0 || uint160(signer) > uint160(signers[i - 1]), SignersNotOrdered());
            signers[i] = signer;
        }
    }

    /// @dev Sums the weights of `signers`, each of which must be in the table.
    function _signedWeights(bytes32 key, uint32 referenceTimestamp, address[] memory signers)
        internal
        view
        returns (uint256[] memory signed)
    {
        uint256 numOperators = _numOperators[key][referenceTimestamp];
        signed = new uint256[](numOperators == 0 ? 0 : _operatorInfos[key][referenceTimestamp][0].weights.length);
        for (uint256 s = 0; s < signers.length; ++s) {
            bool found;
            for (uint256 i = 0; i < numOperators; ++i) {
                ECDSAOperatorInfo storage info = _operatorInfos[key][referenceTimestamp][i];
                if (info.pubkey != signers[s]) continue;
                for (uint256 j = 0; j < signed.length; ++j) {
                    signed[j] += info.weights[j];
                }
                found = true;
                break;
            }
            require(found, VerificationFailed());
        }
    }

    function _totalStakeWeights(bytes32 key, uint32 referenceTimestamp) internal view returns (uint256[] memory total) {
        uint256 numOperators = _numOperators[key][referenceTimestamp];
        require(numOperators > 0, OperatorCountZero());
        total = new uint256[](_operatorInfos[key][referenceTimestamp][0].weights.length);
        for (uint256 i = 0; i < numOperators; ++i) {
            uint256[] storage weights = _operatorInfos[key][referenceTimestamp][i].weights;
            for (uint256 j = 0; j < total.length; ++j) {
                total[j] += weights[j];
            }
        }
    }
}
