// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IKeyRegistrarTypes} from "./IKeyRegistrar.sol";

/// @title IOperatorTableUpdater
/// @notice The read side of EigenLayer's OperatorTableUpdater that verifiers and the Ponos
/// runtime use: which reference timestamps are valid and which L1 block each one stands for.
interface IOperatorTableUpdater {
    function getCertificateVerifier(IKeyRegistrarTypes.CurveType curveType) external view returns (address);
    function getLatestReferenceTimestamp() external view returns (uint32);
    function getLatestReferenceBlockNumber() external view returns (uint32);
    function getReferenceBlockNumberByTimestamp(uint32 referenceTimestamp) external view returns (uint32);
    function getReferenceTimestampByBlockNumber(uint32 referenceBlockNumber) external view returns (uint32);
    function isRootValidByTimestamp(uint32 referenceTimestamp) external view returns (bool);
}
