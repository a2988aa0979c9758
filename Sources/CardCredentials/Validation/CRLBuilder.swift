public import Foundation
import SwiftASN1
public import X509

/// Writes signed X.509 v2 CRLs (DER): for simulated certification authorities, tests and benchmarks.
///
/// Entries are written straight into one byte buffer, so a list of a million serials takes seconds, not
/// minutes.
///
/// ```swift
/// var builder = CRLBuilder(issuer: ca.subject, thisUpdate: now, nextUpdate: now + 86400)
/// builder.revoke(serialNumber: leaf.serialNumber, at: now, reason: .keyCompromise)
/// let der = try builder.sign(with: caKey, algorithm: .ecdsaWithSHA256)
/// ```
public struct CRLBuilder: Sendable {
    /// The issuing CA's name (its certificate's subject).
    public var issuer: DistinguishedName
    /// When the list is made.
    public var thisUpdate: Date
    /// When the next list is due (`nil` leaves the field out).
    public var nextUpdate: Date?
    /// The CRL number extension's value (`nil` leaves it out).
    public var crlNumber: UInt64?
    /// More list extensions, written after the CRL number (for example an issuing distribution point).
    public var extensions: [Certificate.Extension] = []
    private var entries: [UInt8] = []
    /// How many serials have been revoked so far.
    public private(set) var count = 0

    /// A builder for a list issued by `issuer`.
    public init(issuer: DistinguishedName, thisUpdate: Date, nextUpdate: Date?, crlNumber: UInt64? = 1) {
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.crlNumber = crlNumber
    }

    /// Reserves room for `bytes` bytes of entries (about 40 per entry with a reason).
    public mutating func reserveCapacity(_ bytes: Int) {
        entries.reserveCapacity(bytes)
    }

    /// Adds a revoked serial number.
    public mutating func revoke(serialNumber: Certificate.SerialNumber, at date: Date, reason: RevocationReason? = nil)
    {
        var body: [UInt8] = []
        // A serial is a positive INTEGER: its magnitude needs a leading 00 when the first byte has the high bit set,
        // or every reader (openssl included) takes it as a negative number and finds no match.
        var serial = Array(serialNumber.bytes.drop { $0 == 0 })
        if serial.isEmpty || serial[0] & 0x80 != 0 { serial.insert(0, at: 0) }
        DERWriter.append(tag: 0x02, content: serial, to: &body)
        DERWriter.appendTime(date, to: &body)
        if let reason {
            // Extensions ::= SEQUENCE { Extension { 2.5.29.21, OCTET STRING { ENUMERATED reason } } }
            let enumerated: [UInt8] = [0x0A, 0x01, UInt8(reason.rawValue)]
            var octets: [UInt8] = []
            DERWriter.append(tag: 0x04, content: enumerated, to: &octets)
            var ext: [UInt8] = [0x06, 0x03, 0x55, 0x1D, 0x15]
            ext += octets
            var one: [UInt8] = []
            DERWriter.append(tag: 0x30, content: ext, to: &one)
            DERWriter.append(tag: 0x30, content: one, to: &body)
        }
        DERWriter.append(tag: 0x30, content: body, to: &entries)
        count += 1
    }

    /// Signs the list with the issuer's key and returns its DER.
    ///
    /// - Parameters:
    ///   - key: The issuing CA's private key.
    ///   - algorithm: A signature algorithm that suits the key (`.ecdsaWithSHA256` for P-256,
    ///     `.sha256WithRSAEncryption` for RSA).
    /// - Throws: swift-certificates' errors when the key cannot sign with `algorithm`.
    public func sign(with key: Certificate.PrivateKey, algorithm: Certificate.SignatureAlgorithm) throws -> [UInt8] {
        try sign(algorithm: algorithm) { tbsCertList in
            try key.sign(bytes: tbsCertList, signatureAlgorithm: algorithm).rawRepresentation
        }
    }

    /// Signs the list with a key that lives elsewhere (a card, an OpenSSL key, a hardware module) and returns its
    /// DER.
    ///
    /// - Parameters:
    ///   - algorithm: The signature algorithm the key uses; it is written into the CRL.
    ///   - signature: Signs the DER `TBSCertList` it is given with `algorithm` and returns the signature bytes
    ///     (for RSA, the PKCS#1 v1.5 signature; for ECDSA, the DER `Ecdsa-Sig-Value`).
    public func sign(
        algorithm: Certificate.SignatureAlgorithm, using signature: ([UInt8]) throws -> [UInt8]
    ) throws -> [UInt8] {
        let algorithmIdentifier = try Self.algorithmIdentifier(algorithm)
        var tbs: [UInt8] = [0x02, 0x01, 0x01]  // version v2
        tbs += algorithmIdentifier
        var serializer = DER.Serializer()
        try serializer.serialize(issuer)
        tbs += serializer.serializedBytes
        DERWriter.appendTime(thisUpdate, to: &tbs)
        if let nextUpdate { DERWriter.appendTime(nextUpdate, to: &tbs) }
        if count > 0 { DERWriter.append(tag: 0x30, content: entries, to: &tbs) }
        var extensionList: [UInt8] = []
        if let crlNumber {
            var integer: [UInt8] = []
            var value = withUnsafeBytes(of: crlNumber.bigEndian, Array.init)
            while value.count > 1, value[0] == 0, value[1] < 0x80 { value.removeFirst() }
            if value[0] >= 0x80 { value.insert(0, at: 0) }
            DERWriter.append(tag: 0x02, content: value, to: &integer)
            var octets: [UInt8] = []
            DERWriter.append(tag: 0x04, content: integer, to: &octets)
            DERWriter.append(tag: 0x30, content: [0x06, 0x03, 0x55, 0x1D, 0x14] + octets, to: &extensionList)
        }
        for ext in extensions {
            var serializer = DER.Serializer()
            try serializer.serialize(ext)
            extensionList += serializer.serializedBytes
        }
        if !extensionList.isEmpty {
            var list: [UInt8] = []
            DERWriter.append(tag: 0x30, content: extensionList, to: &list)
            DERWriter.append(tag: 0xA0, content: list, to: &tbs)
        }
        var tbsCertList: [UInt8] = []
        DERWriter.append(tag: 0x30, content: tbs, to: &tbsCertList)
        let signed = try signature(tbsCertList)
        var body = tbsCertList
        body += algorithmIdentifier
        DERWriter.append(tag: 0x03, content: [0] + signed, to: &body)
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 6)
        DERWriter.append(tag: 0x30, content: body, to: &out)
        return out
    }

    private static func algorithmIdentifier(_ algorithm: Certificate.SignatureAlgorithm) throws -> [UInt8] {
        let oid: [UInt8]
        var nullParameters = false
        switch algorithm {
        case .sha256WithRSAEncryption: (oid, nullParameters) = ([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 1, 1, 11], true)
        case .sha384WithRSAEncryption: (oid, nullParameters) = ([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 1, 1, 12], true)
        case .sha512WithRSAEncryption: (oid, nullParameters) = ([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 1, 1, 13], true)
        case .ecdsaWithSHA256: oid = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 4, 3, 2]
        case .ecdsaWithSHA384: oid = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 4, 3, 3]
        case .ecdsaWithSHA512: oid = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 4, 3, 4]
        case .ed25519: oid = [0x2B, 0x65, 0x70]
        default: throw CardCredentialsError.malformedCRL("the signature algorithm \(algorithm) is not supported")
        }
        var content: [UInt8] = []
        DERWriter.append(tag: 0x06, content: oid, to: &content)
        if nullParameters { content += [0x05, 0x00] }
        var out: [UInt8] = []
        DERWriter.append(tag: 0x30, content: content, to: &out)
        return out
    }
}

/// Appends DER elements to byte arrays.
enum DERWriter {
    static func append(tag: UInt8, content: [UInt8], to out: inout [UInt8]) {
        out.append(tag)
        let n = content.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out += [0x81, UInt8(n)]
        } else if n <= 0xFFFF {
            out += [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        } else if n <= 0xFF_FFFF {
            out += [0x83, UInt8(n >> 16), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        } else {
            out += [0x84, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        }
        out += content
    }

    /// UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §5.1.2.4).
    static func appendTime(_ date: Date, to out: inout [UInt8]) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let (year, month, day) = CertificateSummary.civil(fromDays: days)
        func two(_ n: Int) -> [UInt8] { [UInt8(0x30 + n / 10), UInt8(0x30 + n % 10)] }
        var text: [UInt8] = []
        let utc = (1950...2049).contains(year)
        if utc { text += two(year % 100) } else { text += two(year / 100) + two(year % 100) }
        text += two(month) + two(day) + two(secondOfDay / 3600) + two(secondOfDay / 60 % 60) + two(secondOfDay % 60)
        text.append(0x5A)
        append(tag: utc ? 0x17 : 0x18, content: text, to: &out)
    }
}
