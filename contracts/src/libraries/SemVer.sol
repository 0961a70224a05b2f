// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title SemVer
/// @notice The major version that EIP-712 domains carry: the first character of a version
/// string such as "1.8.1", as EigenLayer's contracts take it.
library SemVer {
    function major(string memory version) internal pure returns (string memory) {
        bytes memory full = bytes(version);
        if (full.length == 0) return "";
        bytes memory first = new bytes(1);
        first[0] = full[0];
        return string(first);
    }
}
