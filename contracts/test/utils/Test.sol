// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @notice The forge cheatcodes the Ponos contract tests use (a small, self-owned subset of
/// forge's `Vm` interface; the signatures are forge's).
interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function warp(uint256 timestamp) external;
    function roll(uint256 blockNumber) external;
    function deal(address account, uint256 balance) external;
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function label(address account, string calldata newLabel) external;
    function toString(uint256 value) external pure returns (string memory);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);

    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(string calldata left, string calldata right, string calldata error) external pure;
    function assertEq(uint8 left, uint8 right, string calldata error) external pure;
}

/// @notice Base of every contract test: the cheatcode handle and a few helpers.
abstract contract Test {
    /// @dev The address forge serves cheatcodes at: `address(uint160(uint256(keccak256("hevm cheat code"))))`.
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev forge runs a test contract only when it exposes this flag.
    bool public IS_TEST = true;

    function assertTrue(bool condition, string memory error) internal pure {
        vm.assertTrue(condition, error);
    }

    function assertFalse(bool condition, string memory error) internal pure {
        vm.assertFalse(condition, error);
    }

    function assertEq(uint256 left, uint256 right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(bytes32 left, bytes32 right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(address left, address right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(bytes memory left, bytes memory right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }

    function assertEq(string memory left, string memory right, string memory error) internal pure {
        vm.assertEq(left, right, error);
    }
}
