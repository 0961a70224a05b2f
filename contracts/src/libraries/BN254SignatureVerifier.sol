// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {BN254} from "./BN254.sol";

/// @title BN254SignatureVerifier
/// @notice Checks a BLS signature on BN254 against a public key given in both G1 and G2.
/// @dev One pairing check proves both `e(sigma, G2) = e(H(m), apkG2)` and
/// `e(apkG1, G2) = e(G1, apkG2)`, combined with a challenge gamma derived from every input.
library BN254SignatureVerifier {
    using BN254 for BN254.G1Point;

    /// @notice Returns `(success, pairingSuccessful)`; a valid signature makes both true.
    /// @param msgHash The 32-byte digest that was signed (hashed to G1 inside).
    /// @param signature The signature, a G1 point.
    /// @param apk The signer public key (or aggregate) in G1.
    /// @param apkG2 The same key in G2.
    /// @param useGasLimit Whether to cap the pairing call at `pairingGas` instead of reverting on failure.
    function verifySignature(
        bytes32 msgHash,
        BN254.G1Point memory signature,
        BN254.G1Point memory apk,
        BN254.G2Point memory apkG2,
        bool useGasLimit,
        uint256 pairingGas
    ) internal view returns (bool success, bool pairingSuccessful) {
        uint256 gamma = _challenge(msgHash, signature, apk, apkG2);

        BN254.G1Point memory left = signature.plus(apk.scalar_mul(gamma));
        BN254.G1Point memory right = BN254.hashToG1(msgHash).plus(BN254.generatorG1().scalar_mul(gamma));

        if (useGasLimit) {
            // Upstream fills this branch as (pairing result, call succeeded); callers need both.
            (bool callSucceeded, bool pairingResult) =
                BN254.safePairing(left, BN254.negGeneratorG2(), right, apkG2, pairingGas);
            return (pairingResult, callSucceeded);
        }
        return (BN254.pairing(left, BN254.negGeneratorG2(), right, apkG2), true);
    }

    /// @dev gamma = keccak256(msgHash, apk, apkG2, signature) mod r. Packed encoding pads each
    /// element of a fixed array to 32 bytes, so the G2 arrays contribute their four words in order.
    function _challenge(
        bytes32 msgHash,
        BN254.G1Point memory signature,
        BN254.G1Point memory apk,
        BN254.G2Point memory apkG2
    ) private pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(msgHash, apk.X, apk.Y, apkG2.X, apkG2.Y, signature.X, signature.Y)))
            % BN254.FR_MODULUS;
    }
}
