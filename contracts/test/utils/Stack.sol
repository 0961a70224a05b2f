// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OperatorSet} from "../../src/libraries/OperatorSetLib.sol";
import {BN254} from "../../src/libraries/BN254.sol";
import {Merkle} from "../../src/libraries/Merkle.sol";
import {AllocationManager} from "../../src/core/AllocationManager.sol";
import {TaskMailbox} from "../../src/core/TaskMailbox.sol";
import {KeyRegistrar} from "../../src/permissions/KeyRegistrar.sol";
import {OperatorTableUpdater} from "../../src/multichain/OperatorTableUpdater.sol";
import {BN254CertificateVerifier} from "../../src/multichain/BN254CertificateVerifier.sol";
import {ECDSACertificateVerifier} from "../../src/multichain/ECDSACertificateVerifier.sol";
import {IOperatorTableUpdater} from "../../src/interfaces/IOperatorTableUpdater.sol";
import {IAVSTaskHook} from "../../src/interfaces/IAVSTaskHook.sol";
import {IKeyRegistrarTypes} from "../../src/interfaces/IKeyRegistrar.sol";
import {ITaskMailboxTypes} from "../../src/interfaces/ITaskMailbox.sol";
import {ICrossChainRegistryTypes} from "../../src/interfaces/IBaseCertificateVerifier.sol";
import {IOperatorTableCalculatorTypes} from "../../src/interfaces/IOperatorTableCalculator.sol";
import {IBN254CertificateVerifierTypes} from "../../src/interfaces/IBN254CertificateVerifier.sol";
import {IECDSACertificateVerifierTypes} from "../../src/interfaces/IECDSACertificateVerifier.sol";

import {Test} from "./Test.sol";
import {G2} from "./G2.sol";
import {MockTaskHook} from "./Mocks.sol";
import {BN254Keys} from "../fixtures/BN254Keys.sol";

/// @notice Deploys the whole contract stack as the devnet does (TaskMailbox behind a
/// TransparentUpgradeableProxy) and builds operator tables and certificates from fixed test keys.
abstract contract StackTest is Test {
    using BN254 for BN254.G1Point;

    uint96 internal constant MAX_TASK_SLA = 1 days;
    uint96 internal constant TASK_SLA = 120;
    uint256 internal constant START_TIME = 1_700_000_000;

    address internal admin = address(0xAD);
    address internal avs = address(0xA5);
    address internal creator = address(0xC0FFEE);
    address internal aggregator = address(0xA66);

    AllocationManager internal allocationManager;
    KeyRegistrar internal keyRegistrar;
    OperatorTableUpdater internal updater;
    BN254CertificateVerifier internal bn254Verifier;
    ECDSACertificateVerifier internal ecdsaVerifier;
    TaskMailbox internal mailbox;
    MockTaskHook internal hook;

    OperatorSet internal bnSet;
    OperatorSet internal ecSet;

    function setUp() public virtual {
        vm.warp(START_TIME);
        vm.roll(100);

        allocationManager = new AllocationManager();
        keyRegistrar = new KeyRegistrar(allocationManager, "1.8.1");
        updater = new OperatorTableUpdater(admin);
        bn254Verifier = new BN254CertificateVerifier(IOperatorTableUpdater(address(updater)));
        ecdsaVerifier = new ECDSACertificateVerifier(IOperatorTableUpdater(address(updater)), "1.8.1");
        vm.prank(admin);
        updater.setCertificateVerifiers(bn254Verifier, ecdsaVerifier);

        TaskMailbox implementation = new TaskMailbox(address(bn254Verifier), address(ecdsaVerifier), MAX_TASK_SLA);
        mailbox = TaskMailbox(
            address(
                new TransparentUpgradeableProxy(
                    address(implementation), address(0xAD0), abi.encodeCall(TaskMailbox.initialize, (admin, 0, admin))
                )
            )
        );
        hook = new MockTaskHook();

        bnSet = OperatorSet(avs, 1);
        ecSet = OperatorSet(avs, 2);
    }

    // ----------------------------------------------------------------------------------------
    // BN254 operators
    // ----------------------------------------------------------------------------------------

    function bnOperator(uint256 i) internal pure returns (address) {
        return address(uint160(0xB000 + i));
    }

    function bnInfos(uint256 n, uint256 weight)
        internal
        pure
        returns (IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos)
    {
        infos = new IOperatorTableCalculatorTypes.BN254OperatorInfo[](n);
        for (uint256 i = 0; i < n; ++i) {
            (, BN254.G1Point memory g1,) = BN254Keys.key(i);
            infos[i].pubkey = g1;
            infos[i].weights = new uint256[](1);
            infos[i].weights[0] = weight + i;
        }
    }

    function bnLeaves(IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos)
        internal
        view
        returns (bytes32[] memory leaves)
    {
        leaves = new bytes32[](infos.length);
        for (uint256 i = 0; i < infos.length; ++i) {
            leaves[i] = bn254Verifier.calculateOperatorInfoLeaf(infos[i]);
        }
    }

    function bnSetInfo(IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos)
        internal
        view
        returns (IOperatorTableCalculatorTypes.BN254OperatorSetInfo memory info)
    {
        info.numOperators = infos.length;
        info.totalWeights = new uint256[](1);
        for (uint256 i = 0; i < infos.length; ++i) {
            info.aggregatePubkey = info.aggregatePubkey.plus(infos[i].pubkey);
            info.totalWeights[0] += infos[i].weights[0];
        }
        info.operatorInfoTreeRoot = Merkle.merkleizeKeccak(bnLeaves(infos));
    }

    /// @dev Pushes a table of `n` BN254 operators (weights `weight`, `weight + 1`, ...) at the
    /// current block timestamp and returns that reference timestamp.
    function pushBN254Table(OperatorSet memory operatorSet, IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos)
        internal
        returns (uint32 referenceTimestamp)
    {
        referenceTimestamp = uint32(block.timestamp);
        IOperatorTableCalculatorTypes.BN254OperatorSetInfo memory info = bnSetInfo(infos);
        vm.prank(admin);
        updater.setBN254OperatorTable(operatorSet, referenceTimestamp, uint32(block.number), info, ownerConfig());
    }

    function ownerConfig() internal view returns (ICrossChainRegistryTypes.OperatorSetConfig memory) {
        return ICrossChainRegistryTypes.OperatorSetConfig({owner: avs, maxStalenessPeriod: 0});
    }

    /// @dev A certificate signed by every operator of `infos` whose bit in `nonSignerMask` is clear.
    function bnCert(
        IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos,
        uint256 nonSignerMask,
        uint32 referenceTimestamp,
        bytes32 messageHash
    ) internal view returns (IBN254CertificateVerifierTypes.BN254Certificate memory cert) {
        cert.referenceTimestamp = referenceTimestamp;
        cert.messageHash = messageHash;
        BN254.G1Point memory h = BN254.hashToG1(bn254Verifier.calculateCertificateDigest(referenceTimestamp, messageHash));
        bytes32[] memory leaves = bnLeaves(infos);

        uint256 nonSigners;
        for (uint256 i = 0; i < infos.length; ++i) {
            if (nonSignerMask & (1 << i) != 0) nonSigners++;
        }
        cert.nonSignerWitnesses = new IBN254CertificateVerifierTypes.BN254OperatorInfoWitness[](nonSigners);

        uint256 w;
        for (uint256 i = 0; i < infos.length; ++i) {
            if (nonSignerMask & (1 << i) != 0) {
                cert.nonSignerWitnesses[w++] = IBN254CertificateVerifierTypes.BN254OperatorInfoWitness({
                    operatorIndex: uint32(i),
                    operatorInfoProof: Merkle.getProofKeccak(leaves, i),
                    operatorInfo: infos[i]
                });
                continue;
            }
            (uint256 sk,, BN254.G2Point memory g2) = BN254Keys.key(i);
            cert.signature = cert.signature.plus(h.scalar_mul(sk));
            cert.apk = G2.add(cert.apk, g2);
        }
    }

    /// @dev The 64-byte BN254 proof of possession the KeyRegistrar expects for key `i`.
    function bnProofOfPossession(uint256 i, address operator, OperatorSet memory operatorSet)
        internal
        view
        returns (bytes memory keyData, bytes memory signature)
    {
        (uint256 sk, BN254.G1Point memory g1, BN254.G2Point memory g2) = BN254Keys.key(i);
        keyData = keyRegistrar.encodeBN254KeyData(g1, g2);
        bytes32 digest = keyRegistrar.getBN254KeyRegistrationMessageHash(operator, operatorSet, keyData);
        BN254.G1Point memory sigma = BN254.hashToG1(digest).scalar_mul(sk);
        signature = abi.encode(sigma.X, sigma.Y);
    }

    // ----------------------------------------------------------------------------------------
    // ECDSA operators
    // ----------------------------------------------------------------------------------------

    function ecKey(uint256 i) internal pure returns (uint256) {
        return 0xEC0000 + i + 1;
    }

    function ecOperator(uint256 i) internal pure returns (address) {
        return address(uint160(0xE000 + i));
    }

    function ecInfos(uint256 n, uint256 weight)
        internal
        pure
        returns (IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos)
    {
        infos = new IOperatorTableCalculatorTypes.ECDSAOperatorInfo[](n);
        for (uint256 i = 0; i < n; ++i) {
            infos[i].pubkey = vm.addr(ecKey(i));
            infos[i].weights = new uint256[](1);
            infos[i].weights[0] = weight + i;
        }
    }

    function pushECDSATable(OperatorSet memory operatorSet, IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos)
        internal
        returns (uint32 referenceTimestamp)
    {
        referenceTimestamp = uint32(block.timestamp);
        vm.prank(admin);
        updater.setECDSAOperatorTable(operatorSet, referenceTimestamp, uint32(block.number), infos, ownerConfig());
    }

    /// @dev Signatures of the keys whose bit in `signerMask` is set, in ascending signer order.
    function ecSignatures(uint256 n, uint256 signerMask, bytes32 digest) internal pure returns (bytes memory sig) {
        uint256[] memory keys = new uint256[](n);
        uint256 count;
        for (uint256 i = 0; i < n; ++i) {
            if (signerMask & (1 << i) != 0) keys[count++] = ecKey(i);
        }
        // Insertion sort by address.
        for (uint256 i = 1; i < count; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(keys[j]) < vm.addr(keys[j - 1]); --j) {
                (keys[j], keys[j - 1]) = (keys[j - 1], keys[j]);
            }
        }
        for (uint256 i = 0; i < count; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sig = abi.encodePacked(sig, r, s, v);
        }
    }

    function ecCert(uint256 n, uint256 signerMask, uint32 referenceTimestamp, bytes32 messageHash)
        internal
        view
        returns (IECDSACertificateVerifierTypes.ECDSACertificate memory cert)
    {
        cert.referenceTimestamp = referenceTimestamp;
        cert.messageHash = messageHash;
        cert.sig = ecSignatures(n, signerMask, ecdsaVerifier.calculateCertificateDigest(referenceTimestamp, messageHash));
    }

    // ----------------------------------------------------------------------------------------
    // Mailbox
    // ----------------------------------------------------------------------------------------

    function taskConfig(IKeyRegistrarTypes.CurveType curveType, uint16 thresholdBps)
        internal
        view
        returns (ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config)
    {
        config.taskHook = IAVSTaskHook(address(hook));
        config.taskSLA = TASK_SLA;
        config.curveType = curveType;
        config.consensus = ITaskMailboxTypes.Consensus({
            consensusType: ITaskMailboxTypes.ConsensusType.STAKE_PROPORTION_THRESHOLD,
            value: abi.encode(thresholdBps)
        });
        config.feeToken = IERC20(address(0));
    }

    function configure(OperatorSet memory operatorSet, ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config)
        internal
    {
        vm.prank(avs);
        mailbox.setExecutorOperatorSetTaskConfig(operatorSet, config);
    }

    function createTask(OperatorSet memory operatorSet, bytes memory payload) internal returns (bytes32 taskHash) {
        vm.prank(creator);
        taskHash = mailbox.createTask(
            ITaskMailboxTypes.TaskParams({refundCollector: creator, executorOperatorSet: operatorSet, payload: payload})
        );
    }
}
