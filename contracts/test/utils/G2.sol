// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {BN254} from "../../src/libraries/BN254.sol";

/// @notice G2 point addition for tests (the EVM has no G2 precompile): affine arithmetic over
/// Fp2 = Fp[u]/(u^2 + 1). Coordinates in precompile order, `[imaginary, real]`.
library G2 {
    uint256 internal constant P = BN254.FP_MODULUS;

    function add(BN254.G2Point memory a, BN254.G2Point memory b) internal view returns (BN254.G2Point memory) {
        if (_isZero(a)) return b;
        if (_isZero(b)) return a;
        uint256[2] memory lambda;
        if (a.X[0] == b.X[0] && a.X[1] == b.X[1]) {
            require(a.Y[0] == b.Y[0] && a.Y[1] == b.Y[1], "G2: adding a point to its negation");
            // lambda = 3x^2 / 2y
            uint256[2] memory x2 = _mul(a.X, a.X);
            lambda = _mul(_mul([uint256(0), 3], x2), _inv(_add(a.Y, a.Y)));
        } else {
            lambda = _mul(_sub(b.Y, a.Y), _inv(_sub(b.X, a.X)));
        }
        uint256[2] memory x = _sub(_sub(_mul(lambda, lambda), a.X), b.X);
        uint256[2] memory y = _sub(_mul(lambda, _sub(a.X, x)), a.Y);
        return BN254.G2Point(x, y);
    }

    function _isZero(BN254.G2Point memory a) private pure returns (bool) {
        return a.X[0] == 0 && a.X[1] == 0 && a.Y[0] == 0 && a.Y[1] == 0;
    }

    // Elements are [c1, c0] = c0 + c1*u.
    function _add(uint256[2] memory a, uint256[2] memory b) private pure returns (uint256[2] memory) {
        return [addmod(a[0], b[0], P), addmod(a[1], b[1], P)];
    }

    function _sub(uint256[2] memory a, uint256[2] memory b) private pure returns (uint256[2] memory) {
        return [addmod(a[0], P - b[0], P), addmod(a[1], P - b[1], P)];
    }

    function _mul(uint256[2] memory a, uint256[2] memory b) private pure returns (uint256[2] memory) {
        uint256 c0 = addmod(mulmod(a[1], b[1], P), P - mulmod(a[0], b[0], P), P);
        uint256 c1 = addmod(mulmod(a[1], b[0], P), mulmod(a[0], b[1], P), P);
        return [c1, c0];
    }

    function _inv(uint256[2] memory a) private view returns (uint256[2] memory) {
        uint256 norm = addmod(mulmod(a[0], a[0], P), mulmod(a[1], a[1], P), P);
        uint256 normInv = BN254.expMod(norm, P - 2, P);
        return [mulmod(P - a[0], normInv, P), mulmod(a[1], normInv, P)];
    }
}
