public import Foundation
import SwiftASN1
public import X509

/// Why a certificate was revoked: the CRLReason of RFC 5280 §5.3.1.
public enum RevocationReason: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No reason given (`unspecified`).
    case unspecified = 0
    /// The private key was compromised (`keyCompromise`).
    case keyCompromise = 1
    /// The CA's key was compromised (`cACompromise`).
    case caCompromise = 2
    /// The holder's details changed: name, address, organisation (`affiliationChanged`). For a My Number
    /// signing certificate: a change of name, address, date of birth or sex.
    case affiliationChanged = 3
    /// Replaced by a new certificate (`superseded`), as on renewal.
    case superseded = 4
    /// The holder no longer needs it (`cessationOfOperation`).
    case cessationOfOperation = 5
    /// Suspended for now (`certificateHold`).
    case certificateHold = 6
    /// Taken off a delta CRL (`removeFromCRL`).
    case removeFromCRL = 8
    /// The holder's privileges were withdrawn (`privilegeWithdrawn`).
    case privilegeWithdrawn = 9
    /// An attribute authority was compromised (`aACompromise`).
    case aaCompromise = 10

    /// The RFC 5280 name of the reason.
    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .caCompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aaCompromise: "aACompromise"
        }
    }
}

/// One entry of a CRL: a revoked serial number, when, and why.
public struct RevokedCertificate: Sendable, Hashable {
    /// The serial number's content bytes, as in the certificate.
    public var serialNumber: Certificate.SerialNumber
    /// When the CA revoked it.
    public var revocationDate: Date
    /// The reason code entry extension, when present.
    public var reason: RevocationReason?
}

/// A certificate revocation list (X.509 v2 CRL, RFC 5280 §5), read in one linear pass.
///
/// swift-certificates 1.21 has no CRL type, so this one walks the DER by hand: it keeps the file's bytes and
/// indexes each revoked serial number in a hash table of fixed-size keys (no allocation per entry); an
/// entry's date and reason are decoded only when a lookup finds it. A list of a million serials loads in well
/// under a second and answers a lookup in a fraction of a microsecond (see `credentials-benchmark`).
///
/// ```swift
/// let crl = try CertificateRevocationList(bytes: downloaded)   // DER or PEM
/// guard crl.isSignatureValid(issuer: caCertificate) else { ... }
/// if let entry = crl.entry(for: leaf.serialNumber) { print(entry.reason ?? .unspecified) }
/// ```
public struct CertificateRevocationList: Sendable {
    /// The CA that issued the list.
    public let issuer: DistinguishedName
    /// When the list was made.
    public let thisUpdate: Date
    /// When the next list is due; a list used after this date is stale.
    public let nextUpdate: Date?
    /// The OID of the signature algorithm (for example `1.2.840.113549.1.1.11`, sha256WithRSAEncryption).
    public let signatureAlgorithmOID: String
    /// The CRL number extension's value in hex, when present.
    public let crlNumber: String?
    /// OIDs of critical extensions (of the list or of an entry) that this reader does not act on — a delta
    /// CRL indicator, an issuing distribution point, an indirect CRL's certificate issuer. RFC 5280 §5 forbids
    /// deciding revocation from such a list; ``CertificateValidator`` does not use it.
    public let unsupportedCriticalExtensions: [String]

    private let der: [UInt8]
    private let tbsRange: Range<Int>
    private let signatureRange: Range<Int>
    private let signatureAlgorithm: Certificate.SignatureAlgorithm?
    private var index: [SerialKey: UInt32]
    private var longSerials: [[UInt8]: UInt32]

    /// The number of revoked serials in the list.
    public var count: Int { index.count + longSerials.count }

    /// Reads a CRL in DER or PEM (`-----BEGIN X509 CRL-----`).
    ///
    /// - Throws: ``CardCredentialsError/malformedCRL(_:)`` or ``CardCredentialsError/malformedPEM(_:)``.
    public init(bytes: [UInt8]) throws(CardCredentialsError) {
        if bytes.first == 0x30 {
            try self.init(derEncoded: bytes)
        } else {
            try self.init(pemEncoded: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Reads a PEM CRL (`-----BEGIN X509 CRL-----`).
    ///
    /// - Throws: ``CardCredentialsError/malformedPEM(_:)`` or ``CardCredentialsError/malformedCRL(_:)``.
    public init(pemEncoded text: String) throws(CardCredentialsError) {
        try self.init(derEncoded: PEM.decode(text, label: "X509 CRL"))
    }

    /// Reads a DER CRL.
    ///
    /// - Throws: ``CardCredentialsError/malformedCRL(_:)`` naming the part that is wrong.
    public init(derEncoded der: [UInt8]) throws(CardCredentialsError) {
        self.der = der
        let parsed = try der.withUnsafeBufferPointer { buffer throws(CardCredentialsError) in
            try Self.parse(DERWalker(bytes: buffer))
        }
        tbsRange = parsed.tbs
        signatureRange = parsed.signature
        thisUpdate = parsed.thisUpdate
        nextUpdate = parsed.nextUpdate
        index = parsed.index
        longSerials = parsed.longSerials
        crlNumber = parsed.crlNumber
        unsupportedCriticalExtensions = parsed.unsupportedCritical.sorted()
        signatureAlgorithmOID = parsed.algorithmOID
        signatureAlgorithm = SignatureAlgorithms.algorithm(oid: parsed.algorithmOID)
        do {
            let node = try DER.parse(der[parsed.issuer])
            issuer = try DistinguishedName(derEncoded: node)
        } catch {
            throw .malformedCRL("its issuer name cannot be read")
        }
    }

    /// Whether the list is signed by `issuer`'s key (and names `issuer` as its issuer).
    public func isSignatureValid(issuer certificate: Certificate) -> Bool {
        guard certificate.subject == issuer, let signatureAlgorithm else { return false }
        return certificate.publicKey.isValidSignature(
            der[signatureRange], for: der[tbsRange], signatureAlgorithm: signatureAlgorithm)
    }

    /// Whether the list is past its `nextUpdate` at `date` (a list without `nextUpdate` never is).
    public func isStale(at date: Date) -> Bool {
        guard let nextUpdate else { return false }
        return date > nextUpdate
    }

    /// Whether `serialNumber` is on the list.
    public func contains(_ serialNumber: Certificate.SerialNumber) -> Bool {
        offset(of: serialNumber.bytes) != nil
    }

    /// The entry for `serialNumber`, or `nil` when it is not revoked by this list.
    public func entry(for serialNumber: Certificate.SerialNumber) -> RevokedCertificate? {
        guard let offset = offset(of: serialNumber.bytes) else { return nil }
        return der.withUnsafeBufferPointer { buffer in
            Self.decodeEntry(DERWalker(bytes: buffer), at: Int(offset), serialNumber: serialNumber)
        }
    }

    /// Every entry, decoded (slow for large lists: use ``entry(for:)`` to look one up).
    public var entries: [RevokedCertificate] {
        var offsets = Array(index.values)
        offsets.append(contentsOf: longSerials.values)
        offsets.sort()
        return der.withUnsafeBufferPointer { buffer in
            let walker = DERWalker(bytes: buffer)
            return offsets.compactMap { offset in
                guard let serial = try? walker.element(at: Int(offset), limit: buffer.count, what: "entry"),
                    let integer = try? walker.element(at: serial.contentStart, limit: serial.end, what: "serial")
                else { return nil }
                let number = Certificate.SerialNumber(bytes: buffer[integer.contentStart..<integer.end])
                return Self.decodeEntry(walker, at: Int(offset), serialNumber: number)
            }
        }
    }

    private func offset(of serial: ArraySlice<UInt8>) -> UInt32? {
        if let key = SerialKey(serial) { return index[key] }
        return longSerials[Array(serial.drop(while: { $0 == 0 }))]
    }

    // MARK: - Parsing

    private struct Parsed {
        var tbs: Range<Int>
        var signature: Range<Int>
        var issuer: Range<Int>
        var thisUpdate: Date
        var nextUpdate: Date?
        var algorithmOID: String
        var crlNumber: String?
        var index: [SerialKey: UInt32] = [:]
        var longSerials: [[UInt8]: UInt32] = [:]
        var unsupportedCritical: Set<String> = []
    }

    private static func parse(_ w: DERWalker) throws(CardCredentialsError) -> Parsed {
        let end = w.bytes.count
        let list = try w.expect(0x30, at: 0, limit: end, what: "the CertificateList")
        guard list.end == end else { throw .malformedCRL("bytes follow the CertificateList") }
        let tbs = try w.expect(0x30, at: list.contentStart, limit: list.end, what: "the TBSCertList")
        let outerAlgorithm = try w.expect(0x30, at: tbs.end, limit: list.end, what: "the signature algorithm")
        let signature = try w.expect(0x03, at: outerAlgorithm.end, limit: list.end, what: "the signature value")
        guard signature.end == list.end else { throw .malformedCRL("the CertificateList has extra elements") }
        guard signature.end > signature.contentStart, w.bytes[signature.contentStart] == 0 else {
            throw .malformedCRL("the signature BIT STRING has unused bits")
        }
        let algorithmOID = try oid(w, in: outerAlgorithm)

        // TBSCertList
        var cursor = tbs.contentStart
        var element = try w.element(at: cursor, limit: tbs.end, what: "the TBSCertList's first field")
        if element.tag == 0x02 {
            guard element.end - element.contentStart == 1, w.bytes[element.contentStart] == 1 else {
                throw .malformedCRL("the version is not v2")
            }
            cursor = element.end
            element = try w.element(at: cursor, limit: tbs.end, what: "the inner signature algorithm")
        }
        guard element.tag == 0x30 else { throw .malformedCRL("the inner signature algorithm is missing") }
        guard try oid(w, in: element) == algorithmOID else {
            throw .malformedCRL("the inner and outer signature algorithms differ")
        }
        let issuer = try w.expect(0x30, at: element.end, limit: tbs.end, what: "the issuer name")
        let thisUpdateElement = try w.element(at: issuer.end, limit: tbs.end, what: "thisUpdate")
        let thisUpdate = try w.time(thisUpdateElement, what: "thisUpdate")
        cursor = thisUpdateElement.end
        var nextUpdate: Date?
        if cursor < tbs.end, w.bytes[cursor] == 0x17 || w.bytes[cursor] == 0x18 {
            let next = try w.element(at: cursor, limit: tbs.end, what: "nextUpdate")
            nextUpdate = try w.time(next, what: "nextUpdate")
            cursor = next.end
        }
        var parsed = Parsed(
            tbs: tbs.start..<tbs.end, signature: (signature.contentStart + 1)..<signature.end,
            issuer: issuer.start..<issuer.end, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
            algorithmOID: algorithmOID)
        if cursor < tbs.end, w.bytes[cursor] == 0x30 {
            let revoked = try w.element(at: cursor, limit: tbs.end, what: "the revoked certificates")
            try indexEntries(w, in: revoked, into: &parsed)
            cursor = revoked.end
        }
        if cursor < tbs.end {
            let extensions = try w.expect(0xA0, at: cursor, limit: tbs.end, what: "the CRL extensions")
            parsed.crlNumber = try crlExtensions(w, in: extensions, unsupported: &parsed.unsupportedCritical)
            cursor = extensions.end
        }
        guard cursor == tbs.end else { throw .malformedCRL("the TBSCertList has unexpected fields") }
        return parsed
    }

    /// The linear pass over `revokedCertificates`: one fixed-size key per entry.
    private static func indexEntries(
        _ w: DERWalker, in revoked: DERWalker.Element, into parsed: inout Parsed
    ) throws(CardCredentialsError) {
        // An entry takes at least ~30 bytes; reserving from the size avoids rehashing.
        parsed.index.reserveCapacity((revoked.end - revoked.contentStart) / 30)
        var cursor = revoked.contentStart
        while cursor < revoked.end {
            let entry = try w.expect(0x30, at: cursor, limit: revoked.end, what: "a revoked certificate entry")
            let serial = try w.expect(0x02, at: entry.contentStart, limit: entry.end, what: "an entry's serial")
            guard serial.end > serial.contentStart else { throw .malformedCRL("an entry's serial is empty") }
            let date = try w.element(at: serial.end, limit: entry.end, what: "an entry's revocation date")
            guard DERTime.decode(w.bytes, tag: date.tag, from: date.contentStart, to: date.end) != nil else {
                throw .malformedCRL("an entry's revocation date is not a valid time")
            }
            if date.end < entry.end {
                let extensions = try w.expect(0x30, at: date.end, limit: entry.end, what: "an entry's extensions")
                var at = extensions.contentStart
                while at < extensions.end {
                    let ext = try w.expect(0x30, at: at, limit: extensions.end, what: "an entry extension")
                    at = ext.end
                    let id = try w.expect(0x06, at: ext.contentStart, limit: ext.end, what: "an entry extension's OID")
                    // reasonCode and invalidityDate are understood; a critical certificateIssuer (an indirect
                    // CRL) or anything else critical is not.
                    if isCritical(w, extensionAfterOID: id.end, end: ext.end) {
                        let oid = Array(w.bytes[id.contentStart..<id.end])
                        if oid != [0x55, 0x1D, 0x15] && oid != [0x55, 0x1D, 0x18] {
                            parsed.unsupportedCritical.insert(OIDText.decode(oid) ?? "?")
                        }
                    }
                }
            }
            let slice = UnsafeBufferPointer(rebasing: w.bytes[serial.contentStart..<serial.end])
            let offset = UInt32(truncatingIfNeeded: entry.start)
            if let key = SerialKey(slice) {
                parsed.index[key] = offset
            } else {
                parsed.longSerials[Array(slice.drop(while: { $0 == 0 }))] = offset
            }
            cursor = entry.end
        }
    }

    private static func decodeEntry(
        _ w: DERWalker, at offset: Int, serialNumber: Certificate.SerialNumber
    ) -> RevokedCertificate? {
        let limit = w.bytes.count
        guard let entry = try? w.element(at: offset, limit: limit, what: "entry"),
            let serial = try? w.element(at: entry.contentStart, limit: entry.end, what: "serial"),
            let dateElement = try? w.element(at: serial.end, limit: entry.end, what: "date"),
            let date = try? w.time(dateElement, what: "date")
        else { return nil }
        var reason: RevocationReason?
        if dateElement.end < entry.end, let extensions = try? w.element(at: dateElement.end, limit: entry.end, what: "")
        {
            var cursor = extensions.contentStart
            while cursor < extensions.end, let ext = try? w.element(at: cursor, limit: extensions.end, what: "") {
                cursor = ext.end
                // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
                guard let id = try? w.element(at: ext.contentStart, limit: ext.end, what: ""), id.tag == 0x06,
                    Array(w.bytes[id.contentStart..<id.end]) == [0x55, 0x1D, 0x15]  // 2.5.29.21 reasonCode
                else { continue }
                var valueAt = id.end
                if let flag = try? w.element(at: valueAt, limit: ext.end, what: ""), flag.tag == 0x01 {
                    valueAt = flag.end
                }
                if let octets = try? w.element(at: valueAt, limit: ext.end, what: ""), octets.tag == 0x04,
                    let enumerated = try? w.element(at: octets.contentStart, limit: octets.end, what: ""),
                    enumerated.tag == 0x0A, enumerated.end - enumerated.contentStart == 1
                {
                    reason = RevocationReason(rawValue: Int(w.bytes[enumerated.contentStart]))
                }
            }
        }
        return RevokedCertificate(serialNumber: serialNumber, revocationDate: date, reason: reason)
    }

    /// Whether the extension whose OID ends at `offset` has `critical` TRUE.
    private static func isCritical(_ w: DERWalker, extensionAfterOID offset: Int, end: Int) -> Bool {
        guard let flag = try? w.element(at: offset, limit: end, what: "critical"), flag.tag == 0x01,
            flag.end - flag.contentStart == 1
        else { return false }
        return w.bytes[flag.contentStart] != 0
    }

    private static func oid(_ w: DERWalker, in algorithm: DERWalker.Element) throws(CardCredentialsError) -> String {
        let element = try w.expect(0x06, at: algorithm.contentStart, limit: algorithm.end, what: "an algorithm OID")
        guard let text = OIDText.decode(w.bytes[element.contentStart..<element.end]) else {
            throw .malformedCRL("an algorithm OID is malformed")
        }
        return text
    }

    /// Reads the CRL number and notes every critical extension this reader does not act on.
    private static func crlExtensions(
        _ w: DERWalker, in extensions: DERWalker.Element, unsupported: inout Set<String>
    ) throws(CardCredentialsError) -> String? {
        let list = try w.expect(0x30, at: extensions.contentStart, limit: extensions.end, what: "the CRL extensions")
        var cursor = list.contentStart
        var number: String?
        while cursor < list.end {
            let ext = try w.expect(0x30, at: cursor, limit: list.end, what: "a CRL extension")
            cursor = ext.end
            let id = try w.expect(0x06, at: ext.contentStart, limit: ext.end, what: "a CRL extension's OID")
            guard Array(w.bytes[id.contentStart..<id.end]) == [0x55, 0x1D, 0x14] else {  // 2.5.29.20
                // authorityKeyIdentifier (2.5.29.35) is informational; any other critical one changes the
                // list's meaning (a delta CRL, an issuing distribution point) and is not supported.
                if isCritical(w, extensionAfterOID: id.end, end: ext.end),
                    Array(w.bytes[id.contentStart..<id.end]) != [0x55, 0x1D, 0x23]
                {
                    unsupported.insert(OIDText.decode(w.bytes[id.contentStart..<id.end]) ?? "?")
                }
                continue
            }
            var valueAt = id.end
            let maybeFlag = try w.element(at: valueAt, limit: ext.end, what: "the CRL number")
            if maybeFlag.tag == 0x01 { valueAt = maybeFlag.end }
            let octets = try w.expect(0x04, at: valueAt, limit: ext.end, what: "the CRL number")
            let integer = try w.expect(0x02, at: octets.contentStart, limit: octets.end, what: "the CRL number")
            number = w.bytes[integer.contentStart..<integer.end].map { byte in
                let hex = String(byte, radix: 16, uppercase: true)
                return hex.count == 1 ? "0" + hex : hex
            }.joined()
        }
        return number
    }
}

/// A serial number of up to 20 bytes (RFC 5280's limit) packed into fixed-size integers: hashing and comparing
/// it allocates nothing.
struct SerialKey: Hashable, Sendable {
    var a: UInt64
    var b: UInt64
    var c: UInt32
    var count: UInt8

    /// The key of a serial number's content bytes; leading zero bytes (DER's sign padding) are dropped so
    /// `00 C0` and `C0` meet. `nil` past 20 significant bytes.
    init?(_ raw: some Collection<UInt8>) {
        let bytes = raw.drop(while: { $0 == 0 })
        guard bytes.count <= 20 else { return nil }
        var a: UInt64 = 0
        var b: UInt64 = 0
        var c: UInt32 = 0
        for (i, byte) in bytes.enumerated() {
            switch i {
            case 0..<8: a = a << 8 | UInt64(byte)
            case 8..<16: b = b << 8 | UInt64(byte)
            default: c = c << 8 | UInt32(byte)
            }
        }
        self.a = a
        self.b = b
        self.c = c
        self.count = UInt8(bytes.count)
    }
}

/// Dotted text of a DER OID's content bytes.
enum OIDText {
    static func decode(_ bytes: some Collection<UInt8>) -> String? {
        guard let first = bytes.first, first & 0x80 == 0 || bytes.count > 1 else { return nil }
        var arcs: [UInt64] = []
        var value: UInt64 = 0
        var pending = false
        for byte in bytes {
            guard value >> 57 == 0 else { return nil }
            value = value << 7 | UInt64(byte & 0x7F)
            pending = byte & 0x80 != 0
            if !pending {
                arcs.append(value)
                value = 0
            }
        }
        guard !pending, let head = arcs.first else { return nil }
        let firstArc: UInt64 = head < 40 ? 0 : head < 80 ? 1 : 2
        var parts = [String(firstArc), String(head - firstArc * 40)]
        parts.append(contentsOf: arcs.dropFirst().map { String($0) })
        return parts.joined(separator: ".")
    }
}

/// The signature algorithms swift-certificates can verify, by OID.
enum SignatureAlgorithms {
    static func algorithm(oid: String) -> Certificate.SignatureAlgorithm? {
        switch oid {
        case "1.2.840.113549.1.1.5": .sha1WithRSAEncryption
        case "1.2.840.113549.1.1.11": .sha256WithRSAEncryption
        case "1.2.840.113549.1.1.12": .sha384WithRSAEncryption
        case "1.2.840.113549.1.1.13": .sha512WithRSAEncryption
        case "1.2.840.10045.4.3.2": .ecdsaWithSHA256
        case "1.2.840.10045.4.3.3": .ecdsaWithSHA384
        case "1.2.840.10045.4.3.4": .ecdsaWithSHA512
        case "1.3.101.112": .ed25519
        default: nil
        }
    }
}
