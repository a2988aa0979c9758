import Foundation
import SwiftASN1
import X509

/// DER writing and BER reading helpers for CMS SignedData.
enum CMSEncoding {
    static let context0 = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
    static let context1 = ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
    static let context2 = ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)
    static let context3 = ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific)
    static let context4 = ASN1Identifier(tagWithNumber: 4, tagClass: .contextSpecific)

    /// An attribute: `SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF ANY }`.
    struct Attribute: DERSerializable {
        let type: ASN1ObjectIdentifier
        let values: [ASN1Any]

        func serialize(into coder: inout DER.Serializer) throws {
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(type)
                try coder.serializeSetOf(values)
            }
        }
    }

    /// DER bytes built by `body`, as an `ASN1Any`.
    static func any(_ body: (inout DER.Serializer) throws -> Void) throws -> ASN1Any {
        var coder = DER.Serializer()
        try body(&coder)
        return try ASN1Any(derEncoded: DER.parse(coder.serializedBytes))
    }

    /// `AlgorithmIdentifier { algorithm, parameters }`, with NULL parameters when `null`.
    static func writeAlgorithm(
        _ oid: ASN1ObjectIdentifier, null: Bool, into coder: inout DER.Serializer
    ) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(oid)
            if null { try coder.serialize(ASN1Null()) }
        }
    }

    /// A time as CMS wants it: UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5652 §11.3).
    static func time(_ date: Date) throws -> ASN1Any {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = parts.year ?? 1970
        let month = parts.month ?? 1
        let day = parts.day ?? 1
        let hour = parts.hour ?? 0
        let minute = parts.minute ?? 0
        let second = parts.second ?? 0
        if (1950..<2050).contains(year) {
            let utc = try UTCTime(
                year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second)
            return try ASN1Any(erasing: utc)
        }
        let generalized = try GeneralizedTime(
            year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second,
            fractionalSeconds: 0)
        return try ASN1Any(erasing: generalized)
    }

    /// Reads a UTCTime or GeneralizedTime.
    static func date(_ node: ASN1Node) throws -> Date {
        var parts = DateComponents()
        parts.calendar = Calendar(identifier: .gregorian)
        parts.timeZone = TimeZone(identifier: "UTC")
        if node.identifier == UTCTime.defaultIdentifier {
            let time = try UTCTime(berEncoded: node)
            (parts.year, parts.month, parts.day) = (time.year, time.month, time.day)
            (parts.hour, parts.minute, parts.second) = (time.hours, time.minutes, time.seconds)
        } else {
            let time = try GeneralizedTime(berEncoded: node)
            (parts.year, parts.month, parts.day) = (time.year, time.month, time.day)
            (parts.hour, parts.minute, parts.second) = (time.hours, time.minutes, time.seconds)
        }
        guard let date = parts.date else {
            throw CardCredentialsError.malformedCMS("a signing time is out of range")
        }
        return date
    }

    // MARK: Reading

    /// The children of a constructed node.
    static func children(_ node: ASN1Node, _ what: String) throws -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else {
            throw CardCredentialsError.malformedCMS("\(what) is not a constructed element")
        }
        return Array(nodes)
    }

    /// The children of a SEQUENCE (or another identifier).
    static func sequence(
        _ node: ASN1Node, _ what: String, identifier: ASN1Identifier = .sequence
    ) throws -> [ASN1Node] {
        guard node.identifier == identifier else {
            throw CardCredentialsError.malformedCMS(
                "\(what) has tag \(node.identifier), not \(identifier)")
        }
        return try children(node, what)
    }

    /// An OCTET STRING's content, primitive or constructed (BER chunks).
    static func octets(_ node: ASN1Node) throws -> [UInt8] {
        switch node.content {
        case .primitive(let bytes):
            return Array(bytes)
        case .constructed(let nodes):
            var result: [UInt8] = []
            for chunk in nodes { result += try octets(chunk) }
            return result
        }
    }

    /// An `AlgorithmIdentifier`'s OID (parameters ignored).
    static func algorithm(_ node: ASN1Node, _ what: String) throws -> ASN1ObjectIdentifier {
        let parts = try sequence(node, what)
        guard let first = parts.first else {
            throw CardCredentialsError.malformedCMS("\(what) is empty")
        }
        return try ASN1ObjectIdentifier(berEncoded: first)
    }

    /// A digest `AlgorithmIdentifier`'s OID, whose parameters must be absent or NULL (RFC 5754 3: SHA-2 takes no
    /// parameters; both forms are written in practice). Anything else there is refused, not ignored.
    static func digestAlgorithm(_ node: ASN1Node, _ what: String) throws -> ASN1ObjectIdentifier {
        let parts = try sequence(node, what)
        guard let first = parts.first, parts.count <= 2 else {
            throw CardCredentialsError.malformedCMS("\(what) is not an algorithm identifier")
        }
        if parts.count == 2 {
            guard parts[1].identifier == .null, case .primitive(let bytes) = parts[1].content, bytes.isEmpty else {
                throw CardCredentialsError.malformedCMS("\(what) has parameters, where a digest takes none or NULL")
            }
        }
        return try ASN1ObjectIdentifier(berEncoded: first)
    }

    /// An INTEGER's content bytes without leading zero bytes (for comparing serial numbers).
    static func unsignedMagnitude(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(bytes.drop { $0 == 0 })
    }
}
