// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "kidx",
    products: [
        .library(name: "Kidx", targets: ["Kidx"]),
        .executable(name: "kidx", targets: ["kidx"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // ICU's C API is version-renamed by macros (ubrk_open -> ubrk_open_72); this shim
        // exposes the handful of calls kidx needs under stable names.
        .target(name: "CICU", linkerSettings: [.linkedLibrary("icuuc")]),
        // A prefetch instruction for the build's word table (Swift has none).
        .target(name: "CPrefetch"),
        .systemLibrary(name: "CStemmer", pkgConfig: nil, providers: [.apt(["libstemmer-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "Kidx",
            dependencies: ["CICU", "CPrefetch", "CStemmer", "CZstd", "CZlib"],
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "kidx",
            dependencies: ["Kidx", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // libFuzzer targets over the readers of untrusted input (Tools/fuzz); a plain build
        // replays input files through them.
        .executableTarget(
            name: "KidxFuzz",
            dependencies: ["Kidx"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // Micro-benchmarks of the hot paths: `swift package benchmark` (Benchmarks/).
        .executableTarget(
            name: "KidxBenchmarks",
            dependencies: ["Kidx", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/KidxBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .testTarget(
            name: "KidxTests",
            dependencies: ["Kidx"],
            resources: [.copy("Resources")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
