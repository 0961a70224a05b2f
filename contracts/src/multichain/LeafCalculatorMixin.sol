// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IOperatorTableCalculatorTypes} from "../interfaces/IOperatorTableCalculator.sol";

/// @title LeafCalculatorMixin
/// @notice The salted Merkle leaves of operator tables. Salting keeps an operator-info leaf from
/// ever being mistaken for an inner node or a table leaf.
abstract contract LeafCalculatorMixin {
    /// @notice The first byte of keccak256("OPERATOR_INFO_LEAF_SALT").
    uint8 public constant OPERATOR_INFO_LEAF_SALT = 0x75;
    /// @notice The first byte of keccak256("OPERATOR_TABLE_LEAF_SALT").
    uint8 public constant OPERATOR_TABLE_LEAF_SALT = 0x8e;

    /// @notice `keccak256(0x75 ++ abi.encode(operatorInfo))`.
    function calculateOperatorInfoLeaf(IOperatorTableCalculatorTypes.BN254OperatorInfo memory operatorInfo)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(OPERATOR_INFO_LEAF_SALT, abi.encode(operatorInfo)));
    }

    /// @notice `keccak256(0x8e ++ operatorTableBytes)`.
    function calculateOperatorTableLeaf(bytes calldata operatorTableBytes) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(OPERATOR_TABLE_LEAF_SALT, operatorTableBytes));
    }
}
