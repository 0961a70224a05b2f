// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IKeyRegistrar} from "../interfaces/IKeyRegistrar.sol";
import {ITaskAVSRegistrarBase} from "../interfaces/ITaskAVSRegistrarBase.sol";

/// @title TaskAVSRegistrarBase
/// @notice The registrar a task AVS extends: the AllocationManager calls it when operators join
/// or leave; it requires a registered key for every set joined, stores each operator's socket
/// (the executor's gRPC endpoint, `abi.encode(string)` in the registration data) and holds the
/// AVS config (aggregator set and executor sets) that the runtime reads. Same ABI as EigenLayer
/// middleware's TaskAVSRegistrarBase. Override `_beforeRegisterOperator` to gate registration.
abstract contract TaskAVSRegistrarBase is Ownable, ITaskAVSRegistrarBase {
    /// @notice The AVS this registrar serves.
    address public immutable avs;
    /// @notice The only caller of `registerOperator` and `deregisterOperator`.
    IAllocationManager public immutable allocationManager;
    /// @notice Where operator keys are checked.
    IKeyRegistrar public immutable keyRegistrar;

    AvsConfig internal _avsConfig;
    mapping(address operator => string) internal _operatorSockets;

    modifier onlyAllocationManager() {
        require(msg.sender == address(allocationManager), NotAllocationManager());
        _;
    }

    constructor(
        address avs_,
        IAllocationManager _allocationManager,
        IKeyRegistrar _keyRegistrar,
        address owner_,
        AvsConfig memory initialConfig
    ) {
        avs = avs_;
        allocationManager = _allocationManager;
        keyRegistrar = _keyRegistrar;
        _transferOwnership(owner_);
        _setAvsConfig(initialConfig);
    }

    /// @inheritdoc ITaskAVSRegistrarBase
    function setAvsConfig(AvsConfig memory config) external onlyOwner {
        _setAvsConfig(config);
    }

    /// @inheritdoc ITaskAVSRegistrarBase
    function getAvsConfig() external view returns (AvsConfig memory) {
        return _avsConfig;
    }

    /// @notice Called by the AllocationManager when `operator` joins `operatorSetIds`.
    function registerOperator(address operator, address avs_, uint32[] calldata operatorSetIds, bytes calldata data)
        external
        onlyAllocationManager
    {
        require(supportsAVS(avs_), NotAllocationManager());
        for (uint256 i = 0; i < operatorSetIds.length; ++i) {
            require(keyRegistrar.isRegistered(OperatorSet(avs, operatorSetIds[i]), operator), KeyNotRegistered());
        }
        _beforeRegisterOperator(operator, operatorSetIds, data);
        _setOperatorSocket(operator, abi.decode(data, (string)));
        emit OperatorRegistered(operator, operatorSetIds);
    }

    /// @notice Called by the AllocationManager when `operator` leaves `operatorSetIds`.
    function deregisterOperator(address operator, address avs_, uint32[] calldata operatorSetIds)
        external
        onlyAllocationManager
    {
        require(supportsAVS(avs_), NotAllocationManager());
        _beforeDeregisterOperator(operator, operatorSetIds);
        emit OperatorDeregistered(operator, operatorSetIds);
    }

    /// @notice Whether this registrar serves `avs_`.
    function supportsAVS(address avs_) public view returns (bool) {
        return avs_ == avs;
    }

    /// @inheritdoc ITaskAVSRegistrarBase
    function getOperatorSocket(address operator) external view returns (string memory) {
        return _operatorSockets[operator];
    }

    /// @inheritdoc ITaskAVSRegistrarBase
    function updateSocket(address operator, string memory socket) external {
        require(msg.sender == operator, CallerNotOperator());
        _setOperatorSocket(operator, socket);
    }

    /// @dev Hook for AVS-specific checks (an allowlist, a bond, ...); revert to refuse.
    function _beforeRegisterOperator(address operator, uint32[] calldata operatorSetIds, bytes calldata data)
        internal
        virtual
    {}

    /// @dev Hook for AVS-specific clean-up on deregistration.
    function _beforeDeregisterOperator(address operator, uint32[] calldata operatorSetIds) internal virtual {}

    function _setOperatorSocket(address operator, string memory socket) internal {
        _operatorSockets[operator] = socket;
        emit OperatorSocketSet(operator, socket);
    }

    function _setAvsConfig(AvsConfig memory config) internal {
        require(config.executorOperatorSetIds.length > 0, ExecutorOperatorSetIdsEmpty());
        for (uint256 i = 0; i < config.executorOperatorSetIds.length; ++i) {
            uint32 id = config.executorOperatorSetIds[i];
            require(id != config.aggregatorOperatorSetId, InvalidAggregatorOperatorSetId());
            require(i == 0 || id > config.executorOperatorSetIds[i - 1], DuplicateExecutorOperatorSetId());
        }
        _avsConfig = config;
        emit AvsConfigSet(config.aggregatorOperatorSetId, config.executorOperatorSetIds);
    }
}
