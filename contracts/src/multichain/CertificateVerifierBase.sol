// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {IBaseCertificateVerifier} from "../interfaces/IBaseCertificateVerifier.sol";
import {IOperatorTableUpdater} from "../interfaces/IOperatorTableUpdater.sol";

/// @title CertificateVerifierBase
/// @notice What the BN254 and ECDSA certificate verifiers share: the table updater that alone may
/// push tables, per-set owner, staleness and reference-timestamp bookkeeping, the checks every
/// certificate's reference timestamp must pass, and the threshold comparisons.
abstract contract CertificateVerifierBase is Initializable, IBaseCertificateVerifier {
    using OperatorSetLib for OperatorSet;

    uint16 internal constant BPS_DENOMINATOR = 10_000;

    /// @notice The only account allowed to push operator tables.
    IOperatorTableUpdater public immutable operatorTableUpdater;

    mapping(bytes32 operatorSetKey => address) internal _operatorSetOwners;
    mapping(bytes32 operatorSetKey => uint32) internal _maxStalenessPeriods;
    mapping(bytes32 operatorSetKey => uint32) internal _latestReferenceTimestamps;
    mapping(bytes32 operatorSetKey => mapping(uint32 referenceTimestamp => bool)) internal _referenceTimestampsSet;

    modifier onlyTableUpdater() {
        require(msg.sender == address(operatorTableUpdater), OnlyTableUpdater());
        _;
    }

    constructor(IOperatorTableUpdater _operatorTableUpdater) {
        operatorTableUpdater = _operatorTableUpdater;
        _disableInitializers();
    }

    /// @inheritdoc IBaseCertificateVerifier
    function getOperatorSetOwner(OperatorSet memory operatorSet) external view returns (address) {
        return _operatorSetOwners[operatorSet.key()];
    }

    /// @inheritdoc IBaseCertificateVerifier
    function maxOperatorTableStaleness(OperatorSet memory operatorSet) external view returns (uint32) {
        return _maxStalenessPeriods[operatorSet.key()];
    }

    /// @inheritdoc IBaseCertificateVerifier
    function latestReferenceTimestamp(OperatorSet memory operatorSet) external view returns (uint32) {
        return _latestReferenceTimestamps[operatorSet.key()];
    }

    /// @inheritdoc IBaseCertificateVerifier
    function isReferenceTimestampSet(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (bool)
    {
        return _referenceTimestampsSet[operatorSet.key()][referenceTimestamp];
    }

    /// @dev Records a table update: timestamps only move forward; owner and staleness are the
    /// latest pushed (not checkpointed), as upstream.
    function _recordTableUpdate(bytes32 key, uint32 referenceTimestamp, OperatorSetConfig calldata config) internal {
        require(referenceTimestamp > _latestReferenceTimestamps[key], TableUpdateStale());
        _operatorSetOwners[key] = config.owner;
        _maxStalenessPeriods[key] = config.maxStalenessPeriod;
        _latestReferenceTimestamps[key] = referenceTimestamp;
        _referenceTimestampsSet[key][referenceTimestamp] = true;
    }

    /// @dev A certificate's table must be fresh, exist, and not be disabled by the updater.
    function _validateReferenceTimestamp(bytes32 key, uint32 referenceTimestamp) internal view {
        uint32 maxStaleness = _maxStalenessPeriods[key];
        require(
            maxStaleness == 0 || block.timestamp <= uint256(referenceTimestamp) + maxStaleness, CertificateStale()
        );
        require(_referenceTimestampsSet[key][referenceTimestamp], ReferenceTimestampDoesNotExist());
        require(operatorTableUpdater.isRootValidByTimestamp(referenceTimestamp), RootDisabled());
    }

    /// @dev Whether `signed[j] >= total[j] * bps[j] / 10000` for every stake type j.
    function _meetsProportion(uint256[] memory signed, uint256[] memory total, uint16[] memory thresholds)
        internal
        pure
        returns (bool)
    {
        require(signed.length == thresholds.length, ArrayLengthMismatch());
        for (uint256 i = 0; i < signed.length; ++i) {
            if (signed[i] < total[i] * thresholds[i] / BPS_DENOMINATOR) return false;
        }
        return true;
    }

    /// @dev Whether `signed[j] >= nominal[j]` for every stake type j.
    function _meetsNominal(uint256[] memory signed, uint256[] memory nominal) internal pure returns (bool) {
        require(signed.length == nominal.length, ArrayLengthMismatch());
        for (uint256 i = 0; i < signed.length; ++i) {
            if (signed[i] < nominal[i]) return false;
        }
        return true;
    }
}
