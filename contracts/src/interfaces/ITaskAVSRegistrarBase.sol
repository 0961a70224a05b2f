// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IAVSRegistrar} from "./IAVSRegistrar.sol";

interface ITaskAVSRegistrarBaseTypes {
    /// @notice The AVS's aggregator operator set and its executor operator sets (strictly increasing).
    struct AvsConfig {
        uint32 aggregatorOperatorSetId;
        uint32[] executorOperatorSetIds;
    }
}

interface ITaskAVSRegistrarBaseErrors {
    error InvalidAggregatorOperatorSetId();
    error DuplicateExecutorOperatorSetId();
    error ExecutorOperatorSetIdsEmpty();
    error KeyNotRegistered();
    error NotAllocationManager();
    error CallerNotOperator();
    error DataLengthMismatch();
}

interface ITaskAVSRegistrarBaseEvents is ITaskAVSRegistrarBaseTypes {
    event AvsConfigSet(uint32 aggregatorOperatorSetId, uint32[] executorOperatorSetIds);
    event OperatorRegistered(address indexed operator, uint32[] operatorSetIds);
    event OperatorDeregistered(address indexed operator, uint32[] operatorSetIds);
    event OperatorSocketSet(address indexed operator, string socket);
}

/// @title ITaskAVSRegistrarBase
/// @notice The registrar of a task AVS: operator sockets and the AVS config the runtime reads
/// (EigenLayer middleware's interface).
interface ITaskAVSRegistrarBase is ITaskAVSRegistrarBaseErrors, ITaskAVSRegistrarBaseEvents, IAVSRegistrar {
    function setAvsConfig(AvsConfig memory config) external;
    function getAvsConfig() external view returns (AvsConfig memory);
    function getOperatorSocket(address operator) external view returns (string memory);
    function updateSocket(address operator, string memory socket) external;
}
