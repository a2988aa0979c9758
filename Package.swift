// swift-tools-version: 6.1
// ProcurementIdentity: smart cards, certificates and the certificate lifecycle of Japanese e-bidding portals.
//
// Platforms: Linux (tested on Debian 12 with Swift 6.3). PCSC binds pcsc-lite and its thread uses Linux's pthread
// forms; macOS is not supported (Apple ships its own PC/SC framework, also named PCSC), so no platform is declared.

import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "ProcurementIdentity",
    products: [
        .library(name: "ISO7816", targets: ["ISO7816"]),
        .library(name: "PCSC", targets: ["PCSC"]),
        .library(name: "CardCredentials", targets: ["CardCredentials"]),
        .library(name: "JPKI", targets: ["JPKI"]),
        .library(name: "PDFSignature", targets: ["PDFSignature"]),
        .library(name: "Registration", targets: ["Registration"]),
        // The PostgreSQL store, a product of its own: SQLite users do not build postgres-nio.
        .library(name: "RegistrationPostgres", targets: ["RegistrationPostgres"]),
        .library(name: "CertificateRenewal", targets: ["CertificateRenewal"]),
        .library(name: "CardSimulator", targets: ["CardSimulator"]),
        .library(name: "CardAgent", targets: ["CardAgent"]),
        .library(name: "PortalClient", targets: ["PortalClient"]),
        .executable(name: "cardtool", targets: ["cardtool"]),
        .executable(name: "card-simulator", targets: ["card-simulator"]),
        .executable(name: "jpki", targets: ["jpki"]),
        .executable(name: "portal", targets: ["portal"]),
        .executable(name: "portal-server", targets: ["portal-server"]),
        .executable(name: "card-agent", targets: ["card-agent"]),
        .executable(name: "store-benchmark", targets: ["store-benchmark"]),
        .executable(name: "server-load", targets: ["server-load"]),
        .executable(name: "agent-benchmark", targets: ["agent-benchmark"]),
    ],
    // Traits, both on by default: a program that needs neither the PostgreSQL store nor the example tools depends
    // on the package with `traits: []` and then resolves neither postgres-nio (and the swift-nio packages under it)
    // nor swift-argument-parser. See "What a dependency costs" in README.md.
    traits: [
        .trait(name: "PostgreSQL", description: "The PostgreSQL store (RegistrationPostgres) over postgres-nio."),
        .trait(name: "Tools", description: "The example command-line tools, over swift-argument-parser."),
        .default(enabledTraits: ["PostgreSQL", "Tools"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // portal-server only (the Tools trait): the HTTP server, its lifecycle and its metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // System libraries.
        // pcsc-lite's pkg-config file adds -pthread, which SwiftPM refuses with a warning. Its headers live in
        // <PCSC/...>; the forwarding headers in include/ resolve their own <pcsclite.h> and <wintypes.h>, so this
        // small C target needs no flags. It also turns pcsc-lite's macros into functions Swift can call.
        .target(
            name: "CPCSCLite",
            linkerSettings: [.linkedLibrary("pcsclite", .when(platforms: [.linux]))]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // Modules (see Documentation and ../shared/DESIGN.md for the arrows).
        .target(name: "ISO7816", swiftSettings: strict),
        .target(
            name: "PCSC",
            dependencies: [
                "ISO7816",
                .target(name: "CPCSCLite", condition: .when(platforms: [.linux])),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CardCredentials",
            dependencies: [
                "ISO7816",
                "COpenSSL",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "JPKI",
            dependencies: [
                "ISO7816", "CardCredentials",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PDFSignature",
            dependencies: [
                "CardCredentials", "CZlib",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Registration",
            dependencies: [
                "CardCredentials",
                "COpenSSL",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C interface, for the log hook of the checkpoints (GRDB builds on the same library).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RegistrationPostgres",
            dependencies: [
                "Registration",
                .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CertificateRenewal",
            dependencies: [
                "Registration", "CardCredentials", "JPKI", "ISO7816",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CardSimulator",
            dependencies: [
                "ISO7816",
                "CardCredentials",
                "COpenSSL",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The card agent's protocol and rules (origin checks, pinentry, evidence); its HTTP server is a thin
        // executable over it, so the module needs no HTTP package.
        .target(
            name: "CardAgent",
            dependencies: [
                "CardCredentials", "JPKI", "PCSC", "ISO7816",
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // The reference client of portal-server's API (Foundation's URLSession; no HTTP package).
        .target(
            name: "PortalClient",
            dependencies: [
                "CardCredentials", "CardAgent", .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),

        // Examples: thin command-line tools.
        .executableTarget(
            name: "cardtool",
            dependencies: [
                "ISO7816", "PCSC", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
            ],
            path: "Examples/cardtool",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "card-simulator",
            dependencies: [
                "CardSimulator", "CardCredentials", "ISO7816", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
            ],
            path: "Examples/card-simulator",
            swiftSettings: strict
        ),

        .target(
            name: "ToolSupport",
            dependencies: [
                "PCSC",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/ToolSupport",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "jpki",
            dependencies: [
                "JPKI", "PCSC", "CardCredentials", "ISO7816", "ToolSupport", "PDFSignature",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
            ],
            path: "Examples/jpki",
            swiftSettings: strict
        ),

        // The stand-ins for the CA's revocation desk, the J-LIS link and the 電子委任状取扱事業者, shared by the example
        // tool and server.
        .target(
            name: "SimulatorDesk",
            dependencies: [
                "CertificateRenewal", "Registration", "CardSimulator", "CardCredentials", "ToolSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Examples/SimulatorDesk",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "portal",
            dependencies: [
                "Registration", "RegistrationPostgres", "CertificateRenewal", "CardCredentials", "JPKI", "PCSC",
                "ISO7816", "ToolSupport", "CardSimulator", "PortalDocuments", "SimulatorDesk",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
            ],
            path: "Examples/portal",
            swiftSettings: strict
        ),
        // The JSON documents of a registration, shared by `portal --json` and portal-server.
        .target(
            name: "PortalDocuments",
            dependencies: ["Registration"],
            path: "Examples/PortalDocuments",
            swiftSettings: strict
        ),
        // portal-server: the portal over HTTP (routes, sessions, JSON); the rules stay in the library.
        .executableTarget(
            name: "portal-server",
            dependencies: [
                "Registration", "RegistrationPostgres", "CardCredentials", "CertificateRenewal", "PortalDocuments",
                "ToolSupport", "CardSimulator", "SimulatorDesk",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Tools"])),
                .product(name: "HummingbirdCore", package: "hummingbird", condition: .when(traits: ["Tools"])),
                .product(name: "HummingbirdTLS", package: "hummingbird", condition: .when(traits: ["Tools"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Tools"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["Tools"])),
                .product(name: "Metrics", package: "swift-metrics", condition: .when(traits: ["Tools"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["Tools"])),
            ],
            path: "Examples/portal-server",
            exclude: ["schemathesis.toml"],
            resources: [.copy("openapi.yaml"), .copy("Pages")],
            swiftSettings: strict
        ),

        // card-agent: the bidder's local helper over HTTP on loopback; the protocol and the rules are CardAgent's.
        .executableTarget(
            name: "card-agent",
            dependencies: [
                "CardAgent", "CardCredentials", "ToolSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: .when(traits: ["Tools"])),
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Tools"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Tools"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["Tools"])),
            ],
            path: "Examples/card-agent",
            swiftSettings: strict
        ),

        // Benchmarks: executables, never timed unit tests. pcsc-benchmark and credentials-benchmark live in the
        // package Benchmarks/ (so that users of the library never resolve them); store-benchmark stays here because
        // the PostgreSQL store's tests run it beside themselves.
        .executableTarget(
            name: "store-benchmark",
            dependencies: [
                "Registration", "RegistrationPostgres",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/store-benchmark",
            swiftSettings: strict
        ),
        // server-load drives the release portal-server (a child process) with certificate logins and wrk. It is here,
        // not in the package Benchmarks/, so that it shares the release build of portal-server's dependencies (one
        // build of swift-nio, BoringSSL, postgres-nio and Hummingbird instead of two on the build machine).
        .executableTarget(
            name: "server-load",
            dependencies: [
                "Registration", "RegistrationPostgres", "CardCredentials", "CardSimulator",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Tools"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["Tools"])),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["Tools"])),
            ],
            path: "Benchmarks/server-load",
            swiftSettings: strict
        ),

        // agent-benchmark: the card agent's operations through pcscd, split into agent, PC/SC and card time, with
        // their APDUs beside the jpki tool's. Here, not in Benchmarks/, for the raw SCardTransmit of CPCSCLite.
        .executableTarget(
            name: "agent-benchmark",
            dependencies: ["CardAgent", "CardCredentials", "CardSimulator", "JPKI", "PCSC", "CPCSCLite"],
            path: "Benchmarks/agent-benchmark",
            swiftSettings: strict
        ),

        // Tests.
        .testTarget(name: "ISO7816Tests", dependencies: ["ISO7816"], swiftSettings: strict),
        .testTarget(name: "PCSCTests", dependencies: ["PCSC", "ISO7816"], swiftSettings: strict),
        .testTarget(
            name: "CardCredentialsTests",
            dependencies: [
                "CardCredentials", "ISO7816", "CardSimulator",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CardSimulatorTests",
            dependencies: [
                "CardSimulator", "CardCredentials", "ISO7816",
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RegistrationTests",
            dependencies: [
                "Registration", "RegistrationPostgres", "CardCredentials", "CardSimulator",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "JPKITests",
            dependencies: [
                "JPKI", "CardSimulator", "CardCredentials", "ISO7816",
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PDFSignatureTests",
            dependencies: [
                "PDFSignature", "JPKI", "CardSimulator", "CardCredentials",
                .product(name: "X509", package: "swift-certificates"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CertificateRenewalTests",
            dependencies: [
                "CertificateRenewal", "Registration", "RegistrationPostgres", "CardCredentials", "CardSimulator",
                "ISO7816", "JPKI",
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PortalServerTests",
            dependencies: [
                "portal-server", "Registration", "RegistrationPostgres", "CardCredentials", "CardSimulator",
                "CertificateRenewal", "SimulatorDesk",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Tools"])),
                .product(name: "HummingbirdTesting", package: "hummingbird", condition: .when(traits: ["Tools"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["Tools"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["Tools"])),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CardAgentTests",
            dependencies: [
                "CardAgent", "CardCredentials",
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "PCSC", "ISO7816", "CardSimulator", "CardCredentials", "JPKI", "Registration", "CertificateRenewal",
                "PDFSignature", "CardAgent", "PortalClient", "RegistrationPostgres",
                .product(name: "X509", package: "swift-certificates"),
            ],
            // The scripted pinentry of the card agent's tests.
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
    ]
)

// `swift package generate-documentation` (the DocC catalogs with their snippets, Snippets/) needs the DocC plugin.
// Only Scripts/check-docs asks for it, with PROCUREMENT_IDENTITY_DOCC=1, so that users of the library do not
// resolve it.
if Context.environment["PROCUREMENT_IDENTITY_DOCC"] == "1" {
    package.dependencies.append(
        Package.Dependency.package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"))
}
