// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {BN254} from "../libraries/BN254.sol";
import {BN254SignatureVerifier} from "../libraries/BN254SignatureVerifier.sol";
import {SemVer} from "../libraries/SemVer.sol";
import {IKeyRegistrar} from "../interfaces/IKeyRegistrar.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {ISignatureUtilsMixin} from "../interfaces/ISignatureUtilsMixin.sol";

/// @title KeyRegistrar
/// @notice Signing keys per (operator set, operator): ECDSA keys proven by a signature of the key
/// itself, BN254 keys proven by a BLS proof of possession over both the G1 and G2 key. Same ABI,
/// EIP-712 digests and rules as EigenLayer's KeyRegistrar, so operator tooling made for it works
/// here. A key, once used, is never accepted again for any operator set.
/// @dev The sandbox has no PermissionController: the AVS configures its own sets and operators
/// register their own keys; appointees are not supported.
contract KeyRegistrar is IKeyRegistrar, ISignatureUtilsMixin {
    using OperatorSetLib for OperatorSet;
    using BN254 for BN254.G1Point;

    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @notice The EIP-712 type of an ECDSA key registration.
    bytes32 public constant ECDSA_KEY_REGISTRATION_TYPEHASH =
        keccak256("ECDSAKeyRegistration(address operator,address avs,uint32 operatorSetId,address keyAddress)");
    /// @notice The EIP-712 type of a BN254 key registration.
    bytes32 public constant BN254_KEY_REGISTRATION_TYPEHASH =
        keccak256("BN254KeyRegistration(address operator,address avs,uint32 operatorSetId,bytes keyData)");

    /// @notice Thrown when the caller may not act for the AVS or operator.
    error InvalidPermissions();

    /// @notice Consulted before a key is deregistered: a slashable operator keeps its key.
    IAllocationManager public immutable allocationManager;

    string internal _version;

    mapping(bytes32 operatorSetKey => CurveType) internal _operatorSetCurveTypes;
    mapping(bytes32 operatorSetKey => mapping(address operator => KeyInfo)) internal _operatorKeyInfo;
    mapping(bytes32 keyHash => bool) internal _globalKeyRegistry;
    mapping(bytes32 operatorSetKey => mapping(bytes32 keyHash => address operator)) internal _keyHashToOperator;

    /// @param version_ The release version; its first character is the EIP-712 domain version.
    constructor(IAllocationManager _allocationManager, string memory version_) {
        allocationManager = _allocationManager;
        _version = version_;
    }

    /// @inheritdoc IKeyRegistrar
    function configureOperatorSet(OperatorSet memory operatorSet, CurveType curveType) external {
        require(msg.sender == operatorSet.avs, InvalidPermissions());
        require(curveType == CurveType.ECDSA || curveType == CurveType.BN254, InvalidCurveType());
        bytes32 key = operatorSet.key();
        require(_operatorSetCurveTypes[key] == CurveType.NONE, ConfigurationAlreadySet());
        _operatorSetCurveTypes[key] = curveType;
        emit OperatorSetConfigured(operatorSet, curveType);
    }

    /// @inheritdoc IKeyRegistrar
    function registerKey(address operator, OperatorSet memory operatorSet, bytes calldata pubkey, bytes calldata signature)
        external
    {
        require(msg.sender == operator, InvalidPermissions());
        bytes32 setKey = operatorSet.key();
        CurveType curveType = _operatorSetCurveTypes[setKey];
        require(curveType != CurveType.NONE, OperatorSetNotConfigured());
        require(!_operatorKeyInfo[setKey][operator].isRegistered, OperatorAlreadyRegistered());

        bytes32 keyHash;
        if (curveType == CurveType.ECDSA) {
            keyHash = _checkECDSAKey(operator, operatorSet, pubkey, signature);
        } else {
            keyHash = _checkBN254Key(operator, operatorSet, pubkey, signature);
        }

        _globalKeyRegistry[keyHash] = true;
        _keyHashToOperator[setKey][keyHash] = operator;
        _operatorKeyInfo[setKey][operator] = KeyInfo({isRegistered: true, keyData: pubkey});
        emit KeyRegistered(operatorSet, operator, curveType, pubkey);
    }

    /// @inheritdoc IKeyRegistrar
    function deregisterKey(address operator, OperatorSet memory operatorSet) external {
        require(msg.sender == operator, InvalidPermissions());
        require(
            !allocationManager.isOperatorSlashable(operator, operatorSet), OperatorStillSlashable(operatorSet, operator)
        );
        bytes32 setKey = operatorSet.key();
        CurveType curveType = _operatorSetCurveTypes[setKey];
        require(curveType != CurveType.NONE, OperatorSetNotConfigured());
        KeyInfo storage info = _operatorKeyInfo[setKey][operator];
        require(info.isRegistered, KeyNotFound(operatorSet, operator));

        // The key hash stays spent in the global registry.
        delete _keyHashToOperator[setKey][_keyHash(curveType, info.keyData)];
        delete _operatorKeyInfo[setKey][operator];
        emit KeyDeregistered(operatorSet, operator, curveType);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IKeyRegistrar
    function isRegistered(OperatorSet memory operatorSet, address operator) external view returns (bool) {
        return _operatorKeyInfo[operatorSet.key()][operator].isRegistered;
    }

    /// @inheritdoc IKeyRegistrar
    function getOperatorSetCurveType(OperatorSet memory operatorSet) external view returns (CurveType) {
        return _operatorSetCurveTypes[operatorSet.key()];
    }

    /// @inheritdoc IKeyRegistrar
    function getBN254Key(OperatorSet memory operatorSet, address operator)
        external
        view
        returns (BN254.G1Point memory g1Point, BN254.G2Point memory g2Point)
    {
        bytes32 setKey = operatorSet.key();
        require(_operatorSetCurveTypes[setKey] == CurveType.BN254, InvalidCurveType());
        KeyInfo storage info = _operatorKeyInfo[setKey][operator];
        if (!info.isRegistered) return (g1Point, g2Point);
        (g1Point, g2Point) = _decodeBN254KeyData(info.keyData);
    }

    /// @inheritdoc IKeyRegistrar
    function getECDSAKey(OperatorSet memory operatorSet, address operator) external view returns (bytes memory) {
        bytes32 setKey = operatorSet.key();
        require(_operatorSetCurveTypes[setKey] == CurveType.ECDSA, InvalidCurveType());
        return _operatorKeyInfo[setKey][operator].keyData;
    }

    /// @inheritdoc IKeyRegistrar
    function getECDSAAddress(OperatorSet memory operatorSet, address operator) external view returns (address) {
        bytes32 setKey = operatorSet.key();
        require(_operatorSetCurveTypes[setKey] == CurveType.ECDSA, InvalidCurveType());
        bytes memory keyData = _operatorKeyInfo[setKey][operator].keyData;
        if (keyData.length != 20) return address(0);
        return address(bytes20(keyData));
    }

    /// @inheritdoc IKeyRegistrar
    function isKeyGloballyRegistered(bytes32 keyHash) external view returns (bool) {
        return _globalKeyRegistry[keyHash];
    }

    /// @inheritdoc IKeyRegistrar
    function getKeyHash(OperatorSet memory operatorSet, address operator) external view returns (bytes32) {
        bytes32 setKey = operatorSet.key();
        KeyInfo storage info = _operatorKeyInfo[setKey][operator];
        if (!info.isRegistered) return bytes32(0);
        return _keyHash(_operatorSetCurveTypes[setKey], info.keyData);
    }

    /// @inheritdoc IKeyRegistrar
    /// @dev BN254 keys may be given as `abi.encode(g1.X, g1.Y)` or as the full 192-byte key data.
    function getOperatorFromSigningKey(OperatorSet memory operatorSet, bytes memory keyData)
        external
        view
        returns (address operator, bool found)
    {
        bytes32 setKey = operatorSet.key();
        CurveType curveType = _operatorSetCurveTypes[setKey];
        if (curveType == CurveType.NONE) return (address(0), false);
        if (curveType == CurveType.ECDSA && keyData.length != 20) return (address(0), false);
        if (curveType == CurveType.BN254 && keyData.length < 64) return (address(0), false);
        operator = _keyHashToOperator[setKey][_keyHash(curveType, keyData)];
        found = operator != address(0);
    }

    /// @inheritdoc IKeyRegistrar
    function getECDSAKeyRegistrationMessageHash(address operator, OperatorSet memory operatorSet, address keyAddress)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(ECDSA_KEY_REGISTRATION_TYPEHASH, operator, operatorSet.avs, operatorSet.id, keyAddress)
        );
        return _signableDigest(structHash);
    }

    /// @inheritdoc IKeyRegistrar
    function getBN254KeyRegistrationMessageHash(address operator, OperatorSet memory operatorSet, bytes calldata keyData)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(BN254_KEY_REGISTRATION_TYPEHASH, operator, operatorSet.avs, operatorSet.id, keccak256(keyData))
        );
        return _signableDigest(structHash);
    }

    /// @inheritdoc IKeyRegistrar
    function encodeBN254KeyData(BN254.G1Point memory g1Point, BN254.G2Point memory g2Point)
        public
        pure
        returns (bytes memory)
    {
        return abi.encode(g1Point.X, g1Point.Y, g2Point.X[0], g2Point.X[1], g2Point.Y[0], g2Point.Y[1]);
    }

    /// @inheritdoc ISignatureUtilsMixin
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH,
                keccak256(bytes("EigenLayer")),
                keccak256(bytes(SemVer.major(_version))),
                block.chainid,
                address(this)
            )
        );
    }

    /// @inheritdoc ISignatureUtilsMixin
    function version() external view returns (string memory) {
        return _version;
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    /// @dev 20-byte non-zero address, unused, signed by the key itself (EOA or EIP-1271).
    function _checkECDSAKey(address operator, OperatorSet memory operatorSet, bytes calldata keyData, bytes calldata signature)
        internal
        view
        returns (bytes32 keyHash)
    {
        require(keyData.length == 20, InvalidKeyFormat());
        address keyAddress = address(bytes20(keyData));
        require(keyAddress != address(0), ZeroPubkey());
        keyHash = keccak256(keyData);
        require(!_globalKeyRegistry[keyHash], KeyAlreadyRegistered());
        bytes32 digest = getECDSAKeyRegistrationMessageHash(operator, operatorSet, keyAddress);
        require(SignatureChecker.isValidSignatureNow(keyAddress, digest, signature), InvalidSignature());
    }

    /// @dev 192-byte G1 + G2 key, unused, with a 64-byte BLS signature of the registration digest
    /// that proves possession of both halves.
    function _checkBN254Key(address operator, OperatorSet memory operatorSet, bytes calldata keyData, bytes calldata signature)
        internal
        view
        returns (bytes32 keyHash)
    {
        require(keyData.length == 192, InvalidKeyFormat());
        (BN254.G1Point memory g1, BN254.G2Point memory g2) = _decodeBN254KeyData(keyData);
        require(!(g1.X == 0 && g1.Y == 0), ZeroPubkey());
        keyHash = g1.hashG1Point();
        require(!_globalKeyRegistry[keyHash], KeyAlreadyRegistered());
        require(signature.length == 64, InvalidSignature());
        (uint256 sigX, uint256 sigY) = abi.decode(signature, (uint256, uint256));
        bytes32 digest = getBN254KeyRegistrationMessageHash(operator, operatorSet, keyData);
        (bool success, bool pairingSuccessful) =
            BN254SignatureVerifier.verifySignature(digest, BN254.G1Point(sigX, sigY), g1, g2, false, 0);
        require(success && pairingSuccessful, InvalidSignature());
    }

    function _keyHash(CurveType curveType, bytes memory keyData) internal pure returns (bytes32) {
        if (curveType == CurveType.ECDSA) return keccak256(keyData);
        (uint256 x, uint256 y) = abi.decode(keyData, (uint256, uint256));
        return BN254.G1Point(x, y).hashG1Point();
    }

    function _decodeBN254KeyData(bytes memory keyData)
        internal
        pure
        returns (BN254.G1Point memory g1, BN254.G2Point memory g2)
    {
        (g1.X, g1.Y, g2.X[0], g2.X[1], g2.Y[0], g2.Y[1]) =
            abi.decode(keyData, (uint256, uint256, uint256, uint256, uint256, uint256));
    }

    function _signableDigest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }
}
