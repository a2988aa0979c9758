// credentials-benchmark: a CRL with 1,000,000 revoked serials — load, verify, look up — against openssl.
//
//   swift run --package-path Benchmarks -c release credentials-benchmark [--entries N] [--regenerate]
//
// The CRL (DER, RSA-2048 / sha256WithRSAEncryption, signed by a test CA made with swift-certificates) is
// written once to $TMPDIR/credentials-benchmark/ and reused by later runs. Serials are 16 pseudo-random bytes
// from a fixed seed, so the hits looked up are known without keeping them.

import CardCredentials
import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func serial(_ generator: inout SplitMix64) -> [UInt8] {
    var bytes = withUnsafeBytes(of: generator.next().bigEndian, Array.init)
    bytes += withUnsafeBytes(of: generator.next().bigEndian, Array.init)
    bytes[0] = (bytes[0] & 0x7F) | 0x01  // positive, 16 significant bytes
    return bytes
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double, _ unit: String) -> String {
    String(format: "%10.3f %@", value, unit)
}

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kb / 1024
}

@discardableResult
func runProcess(_ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

let arguments = CommandLine.arguments
var entries = 1_000_000
if let i = arguments.firstIndex(of: "--entries"), i + 1 < arguments.count, let n = Int(arguments[i + 1]) {
    entries = n
}
let regenerate = arguments.contains("--regenerate")
let seed: UInt64 = 0x4A50_4B49  // "JPKI"
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-benchmark")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let crlURL = directory.appendingPathComponent("crl-\(entries).der")
let caURL = directory.appendingPathComponent("ca-\(entries).pem")
let clock = ContinuousClock()

// MARK: Generate (or reuse)

if regenerate || !FileManager.default.fileExists(atPath: crlURL.path)
    || !FileManager.default.fileExists(atPath: caURL.path)
{
    print("Generating a CRL with \(entries) revoked serials in \(directory.path) …")
    let started = clock.now
    let key = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
    let name = try DistinguishedName {
        CountryName("JP")
        OrganizationName("Benchmark Certification Authority")
        CommonName("Benchmark CA")
    }
    let now = Date()
    let ca = try Certificate(
        version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
        notValidBefore: now - 86400, notValidAfter: now + 3650 * 86400, issuer: name, subject: name,
        signatureAlgorithm: .sha256WithRSAEncryption,
        extensions: try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        },
        issuerPrivateKey: key)
    var builder = CRLBuilder(issuer: name, thisUpdate: now, nextUpdate: now + 7 * 86400, crlNumber: 1)
    builder.reserveCapacity(entries * 48)
    let reasons: [RevocationReason?] = [nil, .superseded, .affiliationChanged, .keyCompromise, .cessationOfOperation]
    var generator = SplitMix64(state: seed)
    for n in 0..<entries {
        builder.revoke(
            serialNumber: Certificate.SerialNumber(bytes: serial(&generator)), at: now - Double(n % 1000) * 60,
            reason: reasons[n % reasons.count])
    }
    let der = try builder.sign(with: key, algorithm: .sha256WithRSAEncryption)
    try Data(der).write(to: crlURL)
    try ca.serializeAsPEM().pemString.write(to: caURL, atomically: true, encoding: .utf8)
    print("  written \(der.count) bytes in \(String(format: "%.2f", seconds(clock.now - started))) s")
} else {
    print("Reusing \(crlURL.path)")
}

// MARK: Load and verify

let caCertificate = try Certificate(pemEncoded: try String(contentsOf: caURL, encoding: .utf8))
let rssBefore = residentMegabytes()
var loadTimes: [Double] = []
var verifyTimes: [Double] = []
var crl: CertificateRevocationList?
for _ in 0..<5 {
    crl = nil
    let start = clock.now
    let bytes = Array(try Data(contentsOf: crlURL))
    let loaded = try CertificateRevocationList(derEncoded: bytes)
    let parsed = clock.now
    guard loaded.isSignatureValid(issuer: caCertificate) else {
        print("error: the CRL's signature does not verify")
        exit(1)
    }
    let verified = clock.now
    loadTimes.append(seconds(parsed - start))
    verifyTimes.append(seconds(verified - parsed))
    crl = loaded
}
guard let crl else { exit(1) }
let rssAfter = residentMegabytes()
guard crl.count == entries else {
    print("error: loaded \(crl.count) serials, expected \(entries)")
    exit(1)
}

// MARK: Lookups

var generator = SplitMix64(state: seed)
var hits: [Certificate.SerialNumber] = []
let stride = max(1, entries / 10_000)
for n in 0..<entries {
    let bytes = serial(&generator)
    if n % stride == 0 { hits.append(Certificate.SerialNumber(bytes: bytes)) }
}
var missGenerator = SplitMix64(state: seed ^ 0xFFFF_FFFF)
let misses = (0..<hits.count).map { _ in Certificate.SerialNumber(bytes: serial(&missGenerator)) }
let rounds = 100
var found = 0
var start = clock.now
for _ in 0..<rounds { for s in hits where crl.contains(s) { found += 1 } }
let hitTime = seconds(clock.now - start) / Double(rounds * hits.count)
guard found == rounds * hits.count else {
    print("error: \(rounds * hits.count - found) known serials were not found")
    exit(1)
}
found = 0
start = clock.now
for _ in 0..<rounds { for s in misses where crl.contains(s) { found += 1 } }
let missTime = seconds(clock.now - start) / Double(rounds * misses.count)
guard found == 0 else {
    print("error: \(found) unknown serials were found")
    exit(1)
}
var reasons = 0
start = clock.now
for _ in 0..<10 { for s in hits { if crl.entry(for: s)?.reason != nil { reasons += 1 } } }
let entryTime = seconds(clock.now - start) / Double(10 * hits.count)

// MARK: openssl for comparison

func opensslTime(_ extra: [String]) throws -> Double? {
    var best = Double.infinity
    for _ in 0..<3 {
        let start = clock.now
        let status = try runProcess(["openssl", "crl", "-inform", "DER", "-in", crlURL.path, "-noout"] + extra)
        guard status == 0 else { return nil }
        best = min(best, seconds(clock.now - start))
    }
    return best
}
let opensslParse = try opensslTime([])
let opensslVerify = try opensslTime(["-CAfile", caURL.path])

// MARK: Report

let size = (try? FileManager.default.attributesOfItem(atPath: crlURL.path)[.size] as? Int) ?? 0
print("")
print("CRL: \(entries) revoked serials, \(size) bytes, RSA-2048 sha256WithRSAEncryption")
print("| measurement                                   |        value |")
print("|-----------------------------------------------|--------------|")
print("| CardCredentials: read file + parse (best of 5)| \(format(loadTimes.min()! * 1000, "ms")) |")
print("| CardCredentials: parse, median of 5           | \(format(loadTimes.sorted()[2] * 1000, "ms")) |")
print("| CardCredentials: verify signature (best of 5) | \(format(verifyTimes.min()! * 1000, "ms")) |")
print("| CardCredentials: lookup, hit (contains)       | \(format(hitTime * 1e9, "ns")) |")
print("| CardCredentials: lookup, miss (contains)      | \(format(missTime * 1e9, "ns")) |")
print("| CardCredentials: entry(for:) with reason, hit | \(format(entryTime * 1e9, "ns")) |")
print("| CardCredentials: resident memory added        | \(format(rssAfter - rssBefore, "MB")) |")
if let opensslParse {
    print("| openssl crl -noout (process, best of 3)       | \(format(opensslParse * 1000, "ms")) |")
} else {
    print("| openssl crl -noout                            |       failed |")
}
if let opensslVerify {
    print("| openssl crl -CAfile -noout (verify, best of 3)| \(format(opensslVerify * 1000, "ms")) |")
} else {
    print("| openssl crl -CAfile -noout                    |       failed |")
}
print("(lookups averaged over \(rounds * hits.count) hits and \(rounds * misses.count) misses)")
