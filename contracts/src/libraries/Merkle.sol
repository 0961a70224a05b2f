// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title Merkle
/// @notice Positional keccak256 Merkle trees: leaves in index order, padded with zero leaves to
/// the next power of two, parent = keccak256(left ++ right). A proof is the concatenation of the
/// 32-byte siblings from the leaf up; a single-leaf tree has the leaf as root and an empty proof.
library Merkle {
    error InvalidProofLength();
    error InvalidIndex();
    error EmptyRoot();
    error NoLeaves();

    /// @notice Whether `leaf` sits at `index` in the tree with `root`. Reverts `EmptyRoot` for a zero root.
    function verifyInclusionKeccak(bytes memory proof, bytes32 root, bytes32 leaf, uint256 index)
        internal
        pure
        returns (bool)
    {
        require(root != bytes32(0), EmptyRoot());
        return processInclusionProofKeccak(proof, leaf, index) == root;
    }

    /// @notice The root a proof leads to from `leaf` at `index`.
    function processInclusionProofKeccak(bytes memory proof, bytes32 leaf, uint256 index)
        internal
        pure
        returns (bytes32 computed)
    {
        require(proof.length % 32 == 0, InvalidProofLength());
        computed = leaf;
        for (uint256 offset = 32; offset <= proof.length; offset += 32) {
            bytes32 sibling;
            assembly ("memory-safe") {
                sibling := mload(add(proof, offset))
            }
            computed = index % 2 == 0 ? _hashPair(computed, sibling) : _hashPair(sibling, computed);
            index /= 2;
        }
        require(index == 0, InvalidIndex());
    }

    /// @notice The root of the tree over `leaves`.
    function merkleizeKeccak(bytes32[] memory leaves) internal pure returns (bytes32) {
        require(leaves.length > 0, NoLeaves());
        bytes32[] memory level = _padded(leaves);
        uint256 width = level.length;
        while (width > 1) {
            for (uint256 i = 0; i < width / 2; ++i) {
                level[i] = _hashPair(level[2 * i], level[2 * i + 1]);
            }
            width /= 2;
        }
        return level[0];
    }

    /// @notice The inclusion proof of the leaf at `index`.
    function getProofKeccak(bytes32[] memory leaves, uint256 index) internal pure returns (bytes memory proof) {
        require(leaves.length > 0, NoLeaves());
        require(index < leaves.length, InvalidIndex());
        bytes32[] memory level = _padded(leaves);
        uint256 width = level.length;
        while (width > 1) {
            proof = abi.encodePacked(proof, level[index ^ 1]);
            for (uint256 i = 0; i < width / 2; ++i) {
                level[i] = _hashPair(level[2 * i], level[2 * i + 1]);
            }
            width /= 2;
            index /= 2;
        }
    }

    function _padded(bytes32[] memory leaves) private pure returns (bytes32[] memory level) {
        uint256 width = 1;
        while (width < leaves.length) width *= 2;
        level = new bytes32[](width);
        for (uint256 i = 0; i < leaves.length; ++i) {
            level[i] = leaves[i];
        }
    }

    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            h := keccak256(0x00, 0x40)
        }
    }
}
