//! The two ways a BN254 signature hashes what it signs to a point of G1.
//!
//! - [`certificate_hash_to_g1`]: EigenLayer's `BN254.hashToG1` (try-and-increment on a 32-byte
//!   digest). Result signatures and certificates use it, because that is what
//!   `BN254CertificateVerifier` recomputes on chain.
//! - [`auth_hash_to_g1`]: RFC 9380 `hash_to_curve` for BN254 G1 (expand_message_xmd with
//!   SHA-256, the Shallue–van de Woestijne map) under the domain tag
//!   `BLS_SIG_BN254G1_XMD:SHA-256_SSWU_RO_NUL_`, as gnark-crypto's `HashToG1` computes it.
//!   Hourglass signs and checks every off-chain BN254 signature this way: an executor's auth
//!   signature on its answer, an aggregator's signature on a task submission, and the
//!   management challenge tokens.

use std::sync::LazyLock;

use alloy_primitives::B256;
use ark_bn254::{Fq, G1Affine, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::{BigInteger, BigInteger256, Field, One, PrimeField, Zero};
use sha2::{Digest, Sha256};

/// The domain tag of Hourglass's off-chain BN254 signatures (crypto-libs `bn254.Sign`). It names
/// SSWU, but gnark-crypto maps with Shallue–van de Woestijne, the only map RFC 9380 defines for a
/// curve with `a = 0` and no isogeny; the name is part of the tag and so of every signature.
pub const AUTH_DST: &[u8] = b"BLS_SIG_BN254G1_XMD:SHA-256_SSWU_RO_NUL_";

/// (p + 1) / 4: since p = 3 mod 4, `beta^SQRT_EXPONENT` is a square root of beta when one exists.
static SQRT_EXPONENT: LazyLock<BigInteger256> = LazyLock::new(|| {
    let mut e = Fq::MODULUS;
    e.add_with_carry(&BigInteger256::from(1u64));
    e.div2();
    e.div2();
    e
});

/// EigenLayer's hash to G1 (`BN254.hashToG1`), for result signatures and certificates:
/// x = digest mod p, then x, x + 1, ... until x^3 + 3 has the square root
/// y = (x^3 + 3)^((p+1)/4). The exact root matters: a signature on -H would not verify.
pub fn certificate_hash_to_g1(digest: B256) -> G1Affine {
    let three = Fq::from(3u64);
    let mut x = Fq::from_be_bytes_mod_order(digest.as_slice());
    loop {
        let beta = x.square() * x + three;
        let y = beta.pow(SQRT_EXPONENT.as_ref());
        if y.square() == beta {
            return G1Affine::new_unchecked(x, y);
        }
        x += Fq::one();
    }
}

/// Hourglass's hash to G1 for off-chain signatures: RFC 9380 `hash_to_curve` of the 32 digest
/// bytes under [`AUTH_DST`]. Hourglass's signer hashes the message with keccak256 first and
/// passes the digest here; so do we.
pub fn auth_hash_to_g1(digest: B256) -> G1Affine {
    hash_to_curve(digest.as_slice(), AUTH_DST)
}

/// RFC 9380 `hash_to_curve` for BN254 G1 with any domain tag (suite
/// `BN254G1_XMD:SHA-256_SVDW_RO_`): two field elements from expand_message_xmd (SHA-256,
/// 48 bytes each), each mapped with Shallue–van de Woestijne, summed. G1 has cofactor 1, so the
/// sum needs no clearing.
pub fn hash_to_curve(message: &[u8], dst: &[u8]) -> G1Affine {
    let [u0, u1] = hash_to_field::<2>(message, dst);
    (G1Projective::from(map_to_curve(u0)) + map_to_curve(u1)).into_affine()
}

/// RFC 9380 `encode_to_curve` (non-uniform) for BN254 G1: one field element, one map.
pub fn encode_to_curve(message: &[u8], dst: &[u8]) -> G1Affine {
    let [u] = hash_to_field::<1>(message, dst);
    map_to_curve(u)
}

/// Bytes per field element: ceil((ceil(log2 p) + k) / 8) with k = 128 (RFC 9380 §5).
const L: usize = 48;

/// RFC 9380 `hash_to_field` for Fq: `N` elements from expand_message_xmd, each 48 big-endian
/// bytes reduced mod p.
fn hash_to_field<const N: usize>(message: &[u8], dst: &[u8]) -> [Fq; N] {
    let bytes = expand_message_xmd(message, dst, N * L);
    std::array::from_fn(|i| Fq::from_be_bytes_mod_order(&bytes[i * L..(i + 1) * L]))
}

/// RFC 9380 §5.3.1 expand_message_xmd with SHA-256. (ark-ff 0.5's expander pads with one field
/// element's length of zeros instead of SHA-256's 64-byte block, which is right only when the
/// two agree, as for BLS12-381; for BN254 it gives other bytes than the RFC and gnark-crypto.)
fn expand_message_xmd(message: &[u8], dst: &[u8], len: usize) -> Vec<u8> {
    const BLOCK: usize = 64;
    let long_dst: [u8; 32];
    let dst = if dst.len() > 255 {
        long_dst = Sha256::new()
            .chain_update(b"H2C-OVERSIZE-DST-")
            .chain_update(dst)
            .finalize()
            .into();
        &long_dst[..]
    } else {
        dst
    };
    // dst.len() <= 255 here, so the cast is exact.
    let dst_prime = [dst, &[dst.len() as u8]].concat();
    let ell = len.div_ceil(32);
    let b0 = Sha256::new()
        .chain_update([0u8; BLOCK])
        .chain_update(message)
        .chain_update((len as u16).to_be_bytes())
        .chain_update([0u8])
        .chain_update(&dst_prime)
        .finalize();
    let mut out = Vec::with_capacity(ell * 32);
    let mut previous = Sha256::new()
        .chain_update(b0)
        .chain_update([1u8])
        .chain_update(&dst_prime)
        .finalize();
    out.extend_from_slice(&previous);
    for i in 2..=ell {
        let mixed: Vec<u8> = b0.iter().zip(&previous).map(|(a, b)| a ^ b).collect();
        previous = Sha256::new()
            .chain_update(mixed)
            .chain_update([i as u8])
            .chain_update(&dst_prime)
            .finalize();
        out.extend_from_slice(&previous);
    }
    out.truncate(len);
    out
}

/// The constants of the Shallue–van de Woestijne map for y^2 = x^3 + 3 with Z = 1
/// (RFC 9380 §6.6.1; Z as `find_z_svdw` picks it for BN254).
struct Svdw {
    z: Fq,
    /// g(Z).
    c1: Fq,
    /// -Z / 2.
    c2: Fq,
    /// sqrt(-g(Z) * 3Z^2), the root with sgn0 = 0.
    c3: Fq,
    /// -4 g(Z) / 3Z^2.
    c4: Fq,
}

const B: u64 = 3;

static SVDW: LazyLock<Svdw> = LazyLock::new(|| {
    let z = Fq::one();
    let g = |x: Fq| x.square() * x + Fq::from(B);
    let c1 = g(z);
    let two_inv = Fq::from(2u64).inverse().unwrap_or_default();
    let c2 = -z * two_inv;
    let three_z2 = Fq::from(3u64) * z.square();
    let root = (-c1 * three_z2).sqrt().unwrap_or_default();
    let c3 = if sgn0(&root) { -root } else { root };
    let c4 = -Fq::from(4u64) * c1 * three_z2.inverse().unwrap_or_default();
    Svdw { z, c1, c2, c3, c4 }
});

/// Whether x is odd (RFC 9380 `sgn0` for a prime field).
fn sgn0(x: &Fq) -> bool {
    x.into_bigint().is_odd()
}

/// The straight-line Shallue–van de Woestijne map (RFC 9380 Appendix F.1) with A = 0.
fn map_to_curve(u: Fq) -> G1Affine {
    let Svdw { z, c1, c2, c3, c4 } = &*SVDW;
    let g = |x: Fq| x.square() * x + Fq::from(B);
    let tv1 = u.square() * c1;
    let tv2 = Fq::one() + tv1;
    let tv1 = Fq::one() - tv1;
    let tv3 = (tv1 * tv2).inverse().unwrap_or_else(Fq::zero);
    let tv4 = u * tv1 * tv3 * c3;
    let x1 = *c2 - tv4;
    let x2 = *c2 + tv4;
    let x3 = (tv2.square() * tv3).square() * c4 + z;
    let x = if g(x1).legendre().is_qr() {
        x1
    } else if g(x2).legendre().is_qr() {
        x2
    } else {
        x3
    };
    // g(x) is a square for one of the three candidates by construction.
    let mut y = g(x).sqrt().unwrap_or_default();
    if sgn0(&u) != sgn0(&y) {
        y = -y;
    }
    G1Affine::new_unchecked(x, y)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, b256, keccak256};

    use super::*;
    use crate::bn254::g1_to_point;

    fn point(x: &str, y: &str) -> (U256, U256) {
        (x.parse().unwrap(), y.parse().unwrap())
    }

    fn xy(p: &G1Affine) -> (U256, U256) {
        let p = g1_to_point(p);
        (p.X, p.Y)
    }

    fn q128() -> String {
        format!("q128_{}", "q".repeat(128))
    }

    fn a512() -> String {
        format!("a512_{}", "a".repeat(512))
    }

    /// gnark-crypto's published BN254 G1 vectors, `ecc/bn254/hash_vectors_test.go` at commit
    /// f56d63687edbf62b56a398b483120c8cbb08e2dc (hashToG1Vector, suite
    /// `QUUX-V01-CS02-with-BN254G1_XMD:SHA-256_SVDW_RO_`, generated with Armando Faz's h2c-go-ref
    /// per gnark-crypto issue #412): the output point P of hash_to_curve for each message.
    #[test]
    fn hash_to_curve_matches_gnark_crypto_vectors() {
        let dst = b"QUUX-V01-CS02-with-BN254G1_XMD:SHA-256_SVDW_RO_";
        let cases = [
            (
                String::new(),
                point(
                    "0xa976ab906170db1f9638d376514dbf8c42aef256a54bbd48521f20749e59e86",
                    "0x2925ead66b9e68bfc309b014398640ab55f6619ab59bc1fab2210ad4c4d53d5",
                ),
            ),
            (
                "abc".to_string(),
                point(
                    "0x23f717bee89b1003957139f193e6be7da1df5f1374b26a4643b0378b5baf53d1",
                    "0x4142f826b71ee574452dbc47e05bc3e1a647478403a7ba38b7b93948f4e151d",
                ),
            ),
            (
                "abcdef0123456789".to_string(),
                point(
                    "0x187dbf1c3c89aceceef254d6548d7163fdfa43084145f92c4c91c85c21442d4a",
                    "0xabd99d5b0000910b56058f9cc3b0ab0a22d47cf27615f588924fac1e5c63b4d",
                ),
            ),
            (
                q128(),
                point(
                    "0xfe2b0743575324fc452d590d217390ad48e5a16cf051bee5c40a2eba233f5c",
                    "0x794211e0cc72d3cbbdf8e4e5cd6e7d7e78d101ff94862caae8acbe63e9fdc78",
                ),
            ),
            (
                a512(),
                point(
                    "0x1b05dc540bd79fd0fea4fbb07de08e94fc2e7bd171fe025c479dc212a2173ce",
                    "0x1bf028afc00c0f843d113758968f580640541728cfc6d32ced9779aa613cd9b0",
                ),
            ),
        ];
        for (message, expected) in cases {
            let p = hash_to_curve(message.as_bytes(), dst);
            assert!(p.is_on_curve(), "{message:?}");
            assert_eq!(xy(&p), expected, "hash_to_curve({message:?})");
        }
    }

    /// The same file's per-map points for "abc": Q0 = map(u0) and Q1 = map(u1), which pin the
    /// map itself (root choice, sign) rather than only the sum.
    #[test]
    fn the_map_matches_gnark_crypto_for_each_field_element() {
        let dst = b"QUUX-V01-CS02-with-BN254G1_XMD:SHA-256_SVDW_RO_";
        let [u0, u1] = hash_to_field::<2>(b"abc", dst);
        let int = |u: Fq| U256::from_limbs(u.into_bigint().0);
        assert_eq!(
            (int(u0), int(u1)),
            point(
                "0x11945105b5e3d3b9392b5a2318409cbc28b7246aa47fa30da5739907737799a9",
                "0x1255fc9ad5a6e0fb440916f091229bda611c41be2f2283c3d8f98c596be4c8c9",
            )
        );
        assert_eq!(
            xy(&map_to_curve(u0)),
            point(
                "0x1452c8cc24f8dedc25b24d89b87b64e25488191cecc78464fea84077dd156f8d",
                "0x209c3633505ba956f5ce4d974a868db972b8f1b69d63c218d360996bcec1ad41",
            )
        );
        assert_eq!(
            xy(&map_to_curve(u1)),
            point(
                "0x4e8357c98524e6208ae2b771e370f0c449e839003988c2e4ce1eaf8d632559f",
                "0x4396ec43dd8ec8f2b4a705090b5892219759da30154c39490fc4d59d51bb817",
            )
        );
    }

    /// The same file's encodeToG1Vector (suite `..._SVDW_NU_`).
    #[test]
    fn encode_to_curve_matches_gnark_crypto_vectors() {
        let dst = b"QUUX-V01-CS02-with-BN254G1_XMD:SHA-256_SVDW_NU_";
        let cases = [
            (
                String::new(),
                point(
                    "0x1bb8810e2ceaf04786d4efd216fc2820ddd9363712efc736ada11049d8af5925",
                    "0x1efbf8d54c60d865cce08437668ea30f5bf90d287dbd9b5af31da852915e8f11",
                ),
            ),
            (
                "abc".to_string(),
                point(
                    "0xda4a96147df1f35b0f820bd35c6fac3b80e8e320de7c536b1e054667b22c332",
                    "0x189bd3fbffe4c8740d6543754d95c790e44cd2d162858e3b733d2b8387983bb7",
                ),
            ),
            (
                a512(),
                point(
                    "0x27409dccc6ee4ce90e24744fda8d72c0bc64e79766f778da0c1c0ef1c186ea84",
                    "0x1ac201a542feca15e77f30370da183514dc99d8a0b2c136d64ede35cd0b51dc0",
                ),
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(
                xy(&encode_to_curve(message.as_bytes(), dst)),
                expected,
                "{message:?}"
            );
        }
    }

    #[test]
    fn the_two_hashes_differ_and_both_land_in_g1() {
        let digest = keccak256("task");
        let (a, c) = (auth_hash_to_g1(digest), certificate_hash_to_g1(digest));
        assert_ne!(a, c);
        for p in [a, c] {
            assert!(p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve());
        }
    }

    #[test]
    fn certificate_hash_matches_the_contract_vectors() {
        let one = xy(&certificate_hash_to_g1(B256::with_last_byte(1)));
        assert_eq!(one, (U256::from(1), U256::from(2)));
        assert_eq!(
            xy(&certificate_hash_to_g1(keccak256([]))),
            point(
                "0x04410c360230a295b13d66d8d6c1a24a86fb0c0e28bafd068b78a7a8fb91af55",
                "0x03d24e04de149099b8a34d87fffbf964f27c7ad7e56cb75eaa7874368ec572bc",
            )
        );
        let digest = b256!("8794170f5d0b4e758473f0e72def9d3c575ffc12a462a03bf0d9f7b3015b3028");
        assert_eq!(
            xy(&certificate_hash_to_g1(digest)),
            point(
                "0x26cb7a299aa80e2213d3657a2aecec81285d26efd37f0b217898df855061359b",
                "0x17d2521ac185e7e7dbbaed0bd69965fda39ecd5684e43f026b928ebf27345a11",
            )
        );
    }
}
