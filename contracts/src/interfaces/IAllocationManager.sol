// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {IAVSRegistrar} from "./IAVSRegistrar.sol";

interface IAllocationManagerErrors {
    error InvalidAVSRegistrar();
    error InvalidOperator();
    error NonexistentAVSMetadata();
    error AlreadyMemberOfSet();
    error NotMemberOfSet();
    error InvalidOperatorSet();
    error InvalidPermissions();
}

interface IAllocationManagerTypes {
    struct RegisterParams {
        address avs;
        uint32[] operatorSetIds;
        bytes data;
    }

    struct DeregisterParams {
        address operator;
        address avs;
        uint32[] operatorSetIds;
    }

    /// @dev Strategies are `IStrategy` upstream; they are addresses in the ABI.
    struct CreateSetParams {
        uint32 operatorSetId;
        address[] strategies;
    }
}

interface IAllocationManagerEvents is IAllocationManagerTypes {
    event AVSRegistrarSet(address avs, IAVSRegistrar registrar);
    event AVSMetadataURIUpdated(address indexed avs, string metadataURI);
    event OperatorSetCreated(OperatorSet operatorSet);
    event OperatorAddedToOperatorSet(address indexed operator, OperatorSet operatorSet);
    event OperatorRemovedFromOperatorSet(address indexed operator, OperatorSet operatorSet);
}

/// @title IAllocationManager
/// @notice The subset of EigenLayer's AllocationManager that task AVSs and the Ponos runtime use:
/// AVS metadata, operator sets, membership and the AVS registrar.
interface IAllocationManager is IAllocationManagerErrors, IAllocationManagerEvents {
    function registerForOperatorSets(address operator, RegisterParams calldata params) external;
    function deregisterFromOperatorSets(DeregisterParams calldata params) external;
    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external;
    function updateAVSMetadataURI(address avs, string calldata metadataURI) external;
    function createOperatorSets(address avs, CreateSetParams[] calldata params) external;
    function getOperatorSetCount(address avs) external view returns (uint256);
    function isMemberOfOperatorSet(address operator, OperatorSet memory operatorSet) external view returns (bool);
    function isOperatorSet(OperatorSet memory operatorSet) external view returns (bool);
    function getMembers(OperatorSet memory operatorSet) external view returns (address[] memory operators);
    function getMemberCount(OperatorSet memory operatorSet) external view returns (uint256);
    function getAVSRegistrar(address avs) external view returns (IAVSRegistrar);
    function getStrategiesInOperatorSet(OperatorSet memory operatorSet) external view returns (address[] memory strategies);
    function isOperatorSlashable(address operator, OperatorSet memory operatorSet) external view returns (bool);
}
