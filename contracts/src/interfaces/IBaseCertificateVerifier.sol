// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../libraries/OperatorSetLib.sol";

interface ICrossChainRegistryTypes {
    /// @notice Who owns an operator set on destination chains, and how old its table may get
    /// (0 = no limit).
    struct OperatorSetConfig {
        address owner;
        uint32 maxStalenessPeriod;
    }
}

interface IBaseCertificateVerifierEvents is ICrossChainRegistryTypes {
    event OperatorSetOwnerUpdated(OperatorSet operatorSet, address owner);
    event MaxStalenessPeriodUpdated(OperatorSet operatorSet, uint32 maxStalenessPeriod);
}

interface IBaseCertificateVerifierErrors {
    error OnlyTableUpdater();
    error TableUpdateStale();
    error ArrayLengthMismatch();
    error CertificateStale();
    error ReferenceTimestampDoesNotExist();
    error VerificationFailed();
    error RootDisabled();
}

/// @title IBaseCertificateVerifier
/// @notice What both certificate verifiers share (EigenLayer's interface).
interface IBaseCertificateVerifier is IBaseCertificateVerifierEvents, IBaseCertificateVerifierErrors {
    function getOperatorSetOwner(OperatorSet memory operatorSet) external view returns (address);
    function maxOperatorTableStaleness(OperatorSet memory operatorSet) external view returns (uint32);
    function latestReferenceTimestamp(OperatorSet memory operatorSet) external view returns (uint32);
    function isReferenceTimestampSet(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (bool);
    function getTotalStakeWeights(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (uint256[] memory);
    function getOperatorCount(OperatorSet memory operatorSet, uint32 referenceTimestamp)
        external
        view
        returns (uint256);
}
