// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

interface ISignatureUtilsMixinErrors {
    error InvalidSignature();
    error SignatureExpired();
}

interface ISignatureUtilsMixinTypes {
    struct SignatureWithExpiry {
        bytes signature;
        uint256 expiry;
    }

    struct SignatureWithSaltAndExpiry {
        bytes signature;
        bytes32 salt;
        uint256 expiry;
    }
}

/// @title ISignatureUtilsMixin
/// @notice EIP-712 domain and version of contracts that check signatures (EigenLayer's interface).
interface ISignatureUtilsMixin is ISignatureUtilsMixinErrors, ISignatureUtilsMixinTypes {
    function domainSeparator() external view returns (bytes32);
    function version() external view returns (string memory);
}
