// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IKeyRegistrar} from "../interfaces/IKeyRegistrar.sol";
import {IOperatorTableCalculator} from "../interfaces/IOperatorTableCalculator.sol";

/// @title OperatorTableCalculatorBase (sandbox)
/// @notice Operator weights set by the calculator's owner, for chains without EigenLayer stake.
/// An operator counts when it is a member of the set (AllocationManager), has a key registered
/// for it (KeyRegistrar) and has a non-zero weight; operators keep the AllocationManager's
/// member order, which is the index order of the table and of non-signer witnesses.
abstract contract OperatorTableCalculatorBase is Ownable, IOperatorTableCalculator {
    using OperatorSetLib for OperatorSet;

    /// @notice Thrown when the operator and weight lists differ in length.
    error ArrayLengthMismatch();

    event OperatorWeightSet(OperatorSet operatorSet, address indexed operator, uint256 weight);

    /// @notice Where operator-set membership is read.
    IAllocationManager public immutable allocationManager;
    /// @notice Where operator keys are read.
    IKeyRegistrar public immutable keyRegistrar;

    mapping(bytes32 operatorSetKey => mapping(address operator => uint256)) internal _weights;

    constructor(IAllocationManager _allocationManager, IKeyRegistrar _keyRegistrar, address owner_) {
        allocationManager = _allocationManager;
        keyRegistrar = _keyRegistrar;
        _transferOwnership(owner_);
    }

    /// @notice Sets the weight (a single stake type) of each operator in the set; 0 removes it
    /// from the table.
    function setOperatorWeights(OperatorSet calldata operatorSet, address[] calldata operators, uint256[] calldata weights)
        external
        onlyOwner
    {
        require(operators.length == weights.length, ArrayLengthMismatch());
        bytes32 key = operatorSet.key();
        for (uint256 i = 0; i < operators.length; ++i) {
            _weights[key][operators[i]] = weights[i];
            emit OperatorWeightSet(operatorSet, operators[i], weights[i]);
        }
    }

    /// @inheritdoc IOperatorTableCalculator
    function getOperatorSetWeights(OperatorSet calldata operatorSet)
        public
        view
        returns (address[] memory operators, uint256[][] memory weights)
    {
        address[] memory members = allocationManager.getMembers(operatorSet);
        bytes32 key = operatorSet.key();
        operators = new address[](members.length);
        weights = new uint256[][](members.length);
        uint256 count;
        for (uint256 i = 0; i < members.length; ++i) {
            uint256 weight = _weights[key][members[i]];
            if (weight == 0 || !keyRegistrar.isRegistered(operatorSet, members[i])) continue;
            operators[count] = members[i];
            weights[count] = new uint256[](1);
            weights[count][0] = weight;
            ++count;
        }
        assembly ("memory-safe") {
            mstore(operators, count)
            mstore(weights, count)
        }
    }

    /// @inheritdoc IOperatorTableCalculator
    function getOperatorWeights(OperatorSet calldata operatorSet, address operator)
        external
        view
        returns (uint256[] memory weights)
    {
        (address[] memory operators, uint256[][] memory all) = getOperatorSetWeights(operatorSet);
        for (uint256 i = 0; i < operators.length; ++i) {
            if (operators[i] == operator) return all[i];
        }
        return new uint256[](0);
    }
}
