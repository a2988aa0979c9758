import CardCredentials
import Crypto
import Foundation
import SwiftASN1
import X509

/// Writes a signed X.509 v2 CRL (RFC 5280 §5) in DER; swift-certificates reads certificates but writes no CRLs.
///
/// Serial numbers are written as SwiftASN1 unsigned INTEGERs: `Certificate.SerialNumber.bytes` is the magnitude
/// without sign padding, so a serial whose first byte is `80` or more needs the leading `00` that SwiftASN1 adds.
enum CRLWriter {
    struct Entry {
        var serialNumber: [UInt8]
        var date: Date
        var reason: RevocationReason
    }

    /// `sha256WithRSAEncryption` with its NULL parameters.
    private static let sha256WithRSA: [UInt8] = [
        0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00,
    ]

    static func sign(
        issuer: Certificate, key: CardRSAKey, thisUpdate: Date, nextUpdate: Date, crlNumber: Int, entries: [Entry]
    ) throws(CardSimulatorError) -> [UInt8] {
        do {
            var tbs = DER.Serializer()
            try tbs.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)  // v2
                coder.serializeRawBytes(sha256WithRSA)
                try coder.serialize(issuer.subject)
                try serializeTime(thisUpdate, into: &coder)
                try serializeTime(nextUpdate, into: &coder)
                if !entries.isEmpty {
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        for entry in entries {
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(integerBytes: entry.serialNumber)
                                try serializeTime(entry.date, into: &coder)
                                try coder.appendConstructedNode(identifier: .sequence) { coder in
                                    // reasonCode: ENUMERATED inside the extension's OCTET STRING.
                                    let value: [UInt8] = [0x0A, 0x01, UInt8(entry.reason.rawValue)]
                                    try coder.serialize(
                                        Certificate.Extension(oid: [2, 5, 29, 21], critical: false, value: value[...]))
                                }
                            }
                        }
                    }
                }
                try coder.serialize(
                    explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific
                ) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        let keyID = SubjectKeyIdentifier(hash: issuer.publicKey).keyIdentifier
                        try coder.serialize(
                            try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: keyID), critical: false))
                        var numberValue = DER.Serializer()
                        try numberValue.serialize(crlNumber)
                        try coder.serialize(
                            Certificate.Extension(
                                oid: [2, 5, 29, 20], critical: false, value: numberValue.serializedBytes[...]))
                    }
                }
            }
            let tbsBytes = tbs.serializedBytes
            let digest = Array(SHA256.hash(data: tbsBytes))
            let digestInfo: [UInt8] =
                [
                    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
                    0x00, 0x04, 0x20,
                ] + digest
            let signature = try key.signPKCS1(digestInfo: digestInfo)
            var crl = DER.Serializer()
            try crl.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbsBytes)
                coder.serializeRawBytes(sha256WithRSA)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
            }
            return crl.serializedBytes
        } catch let error as CardSimulatorError {
            throw error
        } catch {
            throw .certificateFailed("the CRL could not be written: \(error)")
        }
    }

    private static func serializeTime(_ date: Date, into coder: inout DER.Serializer) throws {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let (year, month, day) = (c.year ?? 1970, c.month ?? 1, c.day ?? 1)
        let (hour, minute, second) = (c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        if (1950..<2050).contains(year) {
            try coder.serialize(
                try UTCTime(year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second))
        } else {
            try coder.serialize(
                try GeneralizedTime(
                    year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second,
                    fractionalSeconds: 0))
        }
    }
}

extension DER.Serializer {
    /// An INTEGER from its big-endian content bytes (a certificate serial number).
    fileprivate mutating func serialize(integerBytes: [UInt8]) throws {
        try serialize(ArraySlice(integerBytes))
    }
}
