// swift-tools-version: 6.0
// The benchmarks of ProcurementIdentity: a package of its own (as swift-nio keeps its benchmarks), so that a
// program that depends on the library neither resolves nor builds them. Run from the repository's root:
//
//     swift run --package-path Benchmarks -c release pcsc-benchmark
//     swift run --package-path Benchmarks -c release credentials-benchmark
//
// store-benchmark stays in the main package for now: the PostgreSQL store's tests run it beside themselves.

import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

func library(_ name: String) -> Target.Dependency {
    .product(name: name, package: "ProcurementIdentity")
}

let package = Package(
    name: "ProcurementIdentityBenchmarks",
    dependencies: [
        .package(name: "ProcurementIdentity", path: ".."),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // pcsc-lite's C API for the raw SCardTransmit loop (the main package's CPCSCLite is not a product).
        .target(name: "CPCSCLiteRaw", path: "CPCSCLiteRaw", linkerSettings: [.linkedLibrary("pcsclite")]),
        .executableTarget(
            name: "pcsc-benchmark",
            dependencies: [
                library("ISO7816"), library("PCSC"), library("CardSimulator"), library("JPKI"),
                library("CardCredentials"), "CPCSCLiteRaw",
            ],
            path: "pcsc-benchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "credentials-benchmark",
            dependencies: [
                library("CardCredentials"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "credentials-benchmark",
            swiftSettings: strict
        ),
    ]
)
