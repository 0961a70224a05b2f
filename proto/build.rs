//! Compiles the protocol files with protox (pure Rust: no protoc needed).

const PROTOS: &[&str] = &[
    "eigenlayer/hourglass/v1/executor.proto",
    "eigenlayer/hourglass/v1/aggregator.proto",
    "eigenlayer/hourglass/v1/common/auth.proto",
    "eigenlayer/hourglass/v1/performer/performer.proto",
    "grpc/health/v1/health.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["."])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
