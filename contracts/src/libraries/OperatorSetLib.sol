// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @notice An operator set: the AVS that owns it and its id within that AVS.
struct OperatorSet {
    address avs;
    uint32 id;
}

/// @title OperatorSetLib
/// @notice The key every contract uses to index an operator set.
library OperatorSetLib {
    /// @notice `bytes32(abi.encodePacked(avs, uint96(id)))`: the address followed by the id as a
    /// 12-byte big-endian number.
    function key(OperatorSet memory operatorSet) internal pure returns (bytes32) {
        return bytes32(abi.encodePacked(operatorSet.avs, uint96(operatorSet.id)));
    }

    /// @notice The operator set a key stands for.
    function decode(bytes32 _key) internal pure returns (OperatorSet memory) {
        return OperatorSet({avs: address(uint160(uint256(_key) >> 96)), id: uint32(uint256(_key) & type(uint96).max)});
    }
}
