// swift-tools-version: 6.0
// libFuzzer targets for ProcurementIdentity's parsers: a package of its own, so that users of the library never
// build it. Built and run by ../Scripts/fuzz, which passes `-sanitize=fuzzer,address -parse-as-library`; a plain
// `swift build` of this package does not link (libFuzzer provides `main`).

import PackageDescription

func library(_ name: String) -> Target.Dependency {
    .product(name: name, package: "ProcurementIdentity")
}

let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

/// One executable per parser; each defines `LLVMFuzzerTestOneInput`.
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("FuzzBERTLV", [library("ISO7816")]),
    ("FuzzATR", [library("ISO7816")]),
    ("FuzzResponseAPDU", [library("ISO7816")]),
    ("FuzzCardChannel", [library("ISO7816")]),
    ("FuzzCertificateSummary", [library("CardCredentials"), x509]),
    ("FuzzCRL", [library("CardCredentials"), x509, crypto]),
    ("FuzzCMS", [library("CardCredentials"), x509]),
    ("FuzzPDF", [library("PDFSignature"), library("CardCredentials")]),
    ("FuzzPKCS12", [library("CardCredentials")]),
    ("FuzzGEPSAnswer", [library("Registration")]),
    ("FuzzSQLiteStore", [library("Registration")]),
    ("FuzzSMTPReply", [library("Registration"), library("CardCredentials")]),
]

let package = Package(
    name: "ProcurementIdentityFuzz",
    dependencies: [
        .package(name: "ProcurementIdentity", path: ".."),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [library("ISO7816")])
    ]
        + fuzzTargets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport"] + target.dependencies
            )
        }
        + [
            // Writes the seed corpora (Corpus/) from real outputs: the card simulator's certificates, the store's
            // database. It is a libFuzzer binary only because the package is built with -sanitize=fuzzer; its work
            // is done in LLVMFuzzerInitialize (see Scripts/fuzz --make-corpus).
            .executableTarget(
                name: "MakeCorpus",
                dependencies: [
                    "FuzzSupport", library("ISO7816"), library("CardCredentials"), library("CardSimulator"),
                    library("Registration"), library("PDFSignature"), x509,
                ]
            )
        ]
)
