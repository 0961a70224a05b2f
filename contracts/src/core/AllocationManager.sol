// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IAVSRegistrar} from "../interfaces/IAVSRegistrar.sol";

/// @title AllocationManager (sandbox)
/// @notice The part of EigenLayer's AllocationManager that task AVSs use, for chains without
/// EigenLayer: AVS metadata, operator sets, membership and the AVS registrar, with the same ABI,
/// events, errors and member order (members are an enumerable set, as upstream).
/// @dev Left out on purpose: delegation, stake allocation and slashing. Any account may register
/// itself as an operator; an operator is slashable exactly while it is a member of the set.
contract AllocationManager is IAllocationManager {
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using OperatorSetLib for OperatorSet;

    mapping(address avs => bool) internal _avsRegisteredMetadata;
    mapping(address avs => IAVSRegistrar) internal _avsRegistrar;
    mapping(address avs => EnumerableSet.Bytes32Set) internal _operatorSets;
    mapping(bytes32 operatorSetKey => EnumerableSet.AddressSet) internal _operatorSetMembers;
    mapping(bytes32 operatorSetKey => address[]) internal _operatorSetStrategies;

    /// @inheritdoc IAllocationManager
    function updateAVSMetadataURI(address avs, string calldata metadataURI) external {
        require(msg.sender == avs, InvalidPermissions());
        _avsRegisteredMetadata[avs] = true;
        emit AVSMetadataURIUpdated(avs, metadataURI);
    }

    /// @inheritdoc IAllocationManager
    function createOperatorSets(address avs, CreateSetParams[] calldata params) external {
        require(msg.sender == avs, InvalidPermissions());
        require(_avsRegisteredMetadata[avs], NonexistentAVSMetadata());
        for (uint256 i = 0; i < params.length; ++i) {
            OperatorSet memory operatorSet = OperatorSet(avs, params[i].operatorSetId);
            bytes32 key = operatorSet.key();
            require(_operatorSets[avs].add(key), InvalidOperatorSet());
            _operatorSetStrategies[key] = params[i].strategies;
            emit OperatorSetCreated(operatorSet);
        }
    }

    /// @inheritdoc IAllocationManager
    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external {
        require(msg.sender == avs, InvalidPermissions());
        require(registrar.supportsAVS(avs), InvalidAVSRegistrar());
        _avsRegistrar[avs] = registrar;
        emit AVSRegistrarSet(avs, registrar);
    }

    /// @inheritdoc IAllocationManager
    function registerForOperatorSets(address operator, RegisterParams calldata params) external {
        require(msg.sender == operator, InvalidPermissions());
        for (uint256 i = 0; i < params.operatorSetIds.length; ++i) {
            OperatorSet memory operatorSet = OperatorSet(params.avs, params.operatorSetIds[i]);
            bytes32 key = operatorSet.key();
            require(_operatorSets[params.avs].contains(key), InvalidOperatorSet());
            require(_operatorSetMembers[key].add(operator), AlreadyMemberOfSet());
            emit OperatorAddedToOperatorSet(operator, operatorSet);
        }
        getAVSRegistrar(params.avs).registerOperator(operator, params.avs, params.operatorSetIds, params.data);
    }

    /// @inheritdoc IAllocationManager
    function deregisterFromOperatorSets(DeregisterParams calldata params) external {
        require(msg.sender == params.operator || msg.sender == params.avs, InvalidPermissions());
        for (uint256 i = 0; i < params.operatorSetIds.length; ++i) {
            OperatorSet memory operatorSet = OperatorSet(params.avs, params.operatorSetIds[i]);
            bytes32 key = operatorSet.key();
            require(_operatorSets[params.avs].contains(key), InvalidOperatorSet());
            require(_operatorSetMembers[key].remove(params.operator), NotMemberOfSet());
            emit OperatorRemovedFromOperatorSet(params.operator, operatorSet);
        }
        getAVSRegistrar(params.avs).deregisterOperator(params.operator, params.avs, params.operatorSetIds);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IAllocationManager
    function getAVSRegistrar(address avs) public view returns (IAVSRegistrar) {
        IAVSRegistrar registrar = _avsRegistrar[avs];
        return address(registrar) == address(0) ? IAVSRegistrar(avs) : registrar;
    }

    /// @inheritdoc IAllocationManager
    function getOperatorSetCount(address avs) external view returns (uint256) {
        return _operatorSets[avs].length();
    }

    /// @inheritdoc IAllocationManager
    function isMemberOfOperatorSet(address operator, OperatorSet memory operatorSet) public view returns (bool) {
        return _operatorSetMembers[operatorSet.key()].contains(operator);
    }

    /// @inheritdoc IAllocationManager
    function isOperatorSet(OperatorSet memory operatorSet) external view returns (bool) {
        return _operatorSets[operatorSet.avs].contains(operatorSet.key());
    }

    /// @inheritdoc IAllocationManager
    function getMembers(OperatorSet memory operatorSet) external view returns (address[] memory) {
        return _operatorSetMembers[operatorSet.key()].values();
    }

    /// @inheritdoc IAllocationManager
    function getMemberCount(OperatorSet memory operatorSet) external view returns (uint256) {
        return _operatorSetMembers[operatorSet.key()].length();
    }

    /// @inheritdoc IAllocationManager
    function getStrategiesInOperatorSet(OperatorSet memory operatorSet) external view returns (address[] memory) {
        return _operatorSetStrategies[operatorSet.key()];
    }

    /// @inheritdoc IAllocationManager
    function isOperatorSlashable(address operator, OperatorSet memory operatorSet) external view returns (bool) {
        return isMemberOfOperatorSet(operator, operatorSet);
    }
}
