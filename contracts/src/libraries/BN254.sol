// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title BN254
/// @notice Arithmetic on the alt_bn128 curve through the EVM precompiles (EIP-196, EIP-197),
/// and EigenLayer's try-and-increment hash to G1.
/// @dev G2 coordinates are kept in precompile order: `X = [x_imaginary, x_real]`,
/// `Y = [y_imaginary, y_real]`. The point (0, 0) stands for the G1 point at infinity.
library BN254 {
    /// @notice The base field modulus p.
    uint256 internal constant FP_MODULUS =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @notice The scalar field modulus r (the group order).
    uint256 internal constant FR_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    // The G2 generator, precompile order.
    uint256 internal constant G2x1 = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 internal constant G2x0 = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 internal constant G2y1 = 4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 internal constant G2y0 = 8495653923123431417604973247489272438418190587263600148770280649306958101930;
    // The negated G2 generator: the same X, and p - y for both Y coordinates.
    uint256 internal constant nG2y1 = 17805874995975841540914202342111839520379459829704422454583296818431106115052;
    uint256 internal constant nG2y0 = 13392588948715843804641432497768002650278120570034223513918757245338268106653;

    /// @dev (p + 1) / 4: since p = 3 mod 4, `beta^SQRT_EXPONENT` is a square root of beta when one exists.
    uint256 internal constant SQRT_EXPONENT = 0xc19139cb84c680a6e14116da060561765e05aa45a1c72a34f082305b61f3f52;

    struct G1Point {
        uint256 X;
        uint256 Y;
    }

    struct G2Point {
        uint256[2] X;
        uint256[2] Y;
    }

    error ECAddFailed();
    error ECMulFailed();
    error ScalarTooLarge();
    error ECPairingFailed();
    error ExpModFailed();

    function generatorG1() internal pure returns (G1Point memory) {
        return G1Point(1, 2);
    }

    function generatorG2() internal pure returns (G2Point memory) {
        return G2Point([G2x1, G2x0], [G2y1, G2y0]);
    }

    function negGeneratorG2() internal pure returns (G2Point memory) {
        return G2Point([G2x1, G2x0], [nG2y1, nG2y0]);
    }

    /// @notice -p for a G1 point (the point at infinity stays itself).
    function negate(G1Point memory p) internal pure returns (G1Point memory) {
        if (p.X == 0 && p.Y == 0) return G1Point(0, 0);
        return G1Point(p.X, FP_MODULUS - (p.Y % FP_MODULUS));
    }

    /// @notice p1 + p2 (precompile 0x06). Reverts `ECAddFailed` on points off the curve.
    function plus(G1Point memory p1, G1Point memory p2) internal view returns (G1Point memory r) {
        uint256[4] memory input = [p1.X, p1.Y, p2.X, p2.Y];
        bool success;
        assembly ("memory-safe") {
            success := staticcall(gas(), 0x06, input, 0x80, r, 0x40)
        }
        require(success, ECAddFailed());
    }

    /// @notice s * p (precompile 0x07). Reverts `ECMulFailed` on points off the curve.
    function scalar_mul(G1Point memory p, uint256 s) internal view returns (G1Point memory r) {
        uint256[3] memory input = [p.X, p.Y, s];
        bool success;
        assembly ("memory-safe") {
            success := staticcall(gas(), 0x07, input, 0x60, r, 0x40)
        }
        require(success, ECMulFailed());
    }

    /// @notice Whether e(a1, a2) * e(b1, b2) == 1 (precompile 0x08). Reverts `ECPairingFailed`
    /// when the precompile rejects its input.
    function pairing(G1Point memory a1, G2Point memory a2, G1Point memory b1, G2Point memory b2)
        internal
        view
        returns (bool)
    {
        (bool success, bool result) = safePairing(a1, a2, b1, b2, gasleft());
        require(success, ECPairingFailed());
        return result;
    }

    /// @notice Like `pairing`, with the precompile call capped at `pairingGas`; returns
    /// `(callSucceeded, pairingHolds)` instead of reverting.
    function safePairing(
        G1Point memory a1,
        G2Point memory a2,
        G1Point memory b1,
        G2Point memory b2,
        uint256 pairingGas
    ) internal view returns (bool, bool) {
        uint256[12] memory input = [
            a1.X, a1.Y, a2.X[0], a2.X[1], a2.Y[0], a2.Y[1],
            b1.X, b1.Y, b2.X[0], b2.X[1], b2.Y[0], b2.Y[1]
        ];
        uint256[1] memory out;
        bool success;
        assembly ("memory-safe") {
            success := staticcall(pairingGas, 0x08, input, 0x180, out, 0x20)
        }
        return (success, success && out[0] == 1);
    }

    /// @notice keccak256 of the point's two coordinates: the key hash of a BN254 key.
    function hashG1Point(G1Point memory p) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(p.X, p.Y));
    }

    /// @notice EigenLayer's try-and-increment hash to G1: start at x = h mod p and step x by one
    /// until x^3 + 3 has a square root y = (x^3 + 3)^((p+1)/4).
    function hashToG1(bytes32 h) internal view returns (G1Point memory) {
        uint256 x = uint256(h) % FP_MODULUS;
        while (true) {
            (uint256 beta, uint256 y) = findYFromX(x);
            if (beta == mulmod(y, y, FP_MODULUS)) return G1Point(x, y);
            x = addmod(x, 1, FP_MODULUS);
        }
        // Unreachable: half of all x have a root.
        return G1Point(0, 0);
    }

    /// @notice `(beta, y)` with beta = x^3 + 3 and y = beta^((p+1)/4), both mod p.
    function findYFromX(uint256 x) internal view returns (uint256 beta, uint256 y) {
        beta = addmod(mulmod(mulmod(x, x, FP_MODULUS), x, FP_MODULUS), 3, FP_MODULUS);
        y = expMod(beta, SQRT_EXPONENT, FP_MODULUS);
    }

    /// @notice base^exponent mod modulus (precompile 0x05).
    function expMod(uint256 base, uint256 exponent, uint256 modulus) internal view returns (uint256 result) {
        uint256[6] memory input = [uint256(32), 32, 32, base, exponent, modulus];
        uint256[1] memory out;
        bool success;
        assembly ("memory-safe") {
            success := staticcall(gas(), 0x05, input, 0xc0, out, 0x20)
        }
        require(success, ExpModFailed());
        return out[0];
    }
}
