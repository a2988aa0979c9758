public import CardCredentials
public import Foundation
import SwiftASN1
public import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A certification authority for tests: JPKI-like signing and authentication hierarchies and a private e-bidding
/// CA, each a self-signed RSA-2048 root that issues end-entity certificates, revokes them and publishes signed
/// CRLs.
///
/// Everything lives in one directory so several processes (a test run, a `card-simulator` process) share one CA:
///
/// ```
/// DIR/index.json                       issued and revoked certificates, CRL numbers
/// DIR/<hierarchy>/key.pem              the root's private key (PKCS#8)
/// DIR/<hierarchy>/certificate.pem      the root certificate
/// DIR/<hierarchy>/crl.der              the last CRL published
/// DIR/issued/<serial>.pem              every certificate issued
/// ```
///
/// Each read-modify-write holds an exclusive `flock` on `DIR/.lock`.
///
/// A test that runs the authority in its own process only needs ``temporary(rootValidity:)``: a fresh directory
/// that is removed when the authority is released.
///
/// ```swift
/// let authority = try TestCertificateAuthority(directory: URL(filePath: "/tmp/ca"))
/// let key = try CardRSAKey.generate()
/// let certificate = try authority.issueEBiddingCertificate(for: .example, publicKey: key, validity: .valid(days: 395))
/// try authority.revoke(certificate.serialNumber, reason: .keyCompromise)
/// let crl = try authority.publishCRL(for: .eBidding)
/// ```
public final class TestCertificateAuthority: Sendable {
    /// The CA hierarchies the test authority runs.
    public enum Hierarchy: String, Sendable, Hashable, Codable, CaseIterable {
        /// Issues JPKI-like signing certificates (署名用電子証明書).
        case jpkiSigning
        /// Issues JPKI-like user-authentication certificates (利用者証明用電子証明書).
        case jpkiAuthentication
        /// A private CA (民間認証局) issuing e-bidding IC card certificates.
        case eBidding

        var subject: DistinguishedName {
            get throws {
                switch self {
                case .jpkiSigning:
                    return try DistinguishedName {
                        CountryName("JP")
                        OrganizationName("JPKI (TEST)")
                        OrganizationalUnitName("JPKI for digital signature")
                        OrganizationalUnitName("ProcurementIdentity test authority")
                    }
                case .jpkiAuthentication:
                    return try DistinguishedName {
                        CountryName("JP")
                        OrganizationName("JPKI (TEST)")
                        OrganizationalUnitName("JPKI for user authentication")
                        OrganizationalUnitName("ProcurementIdentity test authority")
                    }
                case .eBidding:
                    return try DistinguishedName {
                        CountryName("JP")
                        OrganizationName("ProcurementIdentity Test CA")
                        CommonName("電子入札テスト認証局")
                    }
                }
            }
        }
    }

    /// What the index records about one issued certificate.
    public struct IssuedCertificate: Sendable, Hashable, Codable {
        /// The serial number, hex.
        public var serialNumber: String
        /// The issuing hierarchy.
        public var hierarchy: Hierarchy
        /// The subject, as text.
        public var subject: String
        /// The validity period.
        public var validity: CertificateValidity
        /// When and why it was revoked, if it was.
        public var revocation: Revocation?
    }

    /// A revocation entry.
    public struct Revocation: Sendable, Hashable, Codable {
        /// When the CA revoked the certificate.
        public var date: Date
        /// The RFC 5280 CRLReason code.
        public var reasonCode: Int

        /// Why.
        public var reason: RevocationReason { RevocationReason(rawValue: reasonCode) ?? .unspecified }
    }

    private struct Index: Codable {
        var issued: [IssuedCertificate] = []
        var crlNumbers: [Hierarchy: Int] = [:]
    }

    private struct Root: Sendable {
        var key: CardRSAKey
        var certificate: Certificate
    }

    /// The directory the authority lives in.
    public let directory: URL
    private let roots: [Hierarchy: Root]
    /// Whether `deinit` removes `directory` (an authority made by ``temporary(rootValidity:)``).
    private let removesDirectory: Bool

    /// Opens the authority in `directory`, creating the directory and the three roots the first time.
    ///
    /// - Parameters:
    ///   - directory: The directory of the authority's keys, issued certificates and CRLs.
    ///   - rootValidity: The roots' validity when they are created (ten years by default).
    public convenience init(
        directory: URL, rootValidity: CertificateValidity = .valid(days: 3650)
    ) throws(CardSimulatorError) {
        try self.init(directory: directory, rootValidity: rootValidity, removesDirectory: false)
    }

    /// An authority of its own in a new directory under the temporary directory, removed with everything in it
    /// when the authority is released: for tests and programs that use the authority in one process.
    ///
    /// ```swift
    /// let authority = try TestCertificateAuthority.temporary()
    /// let card = try JPKICard.issue(by: authority, holder: .example, signingPIN: "ABC123", authenticationPIN: "1234")
    /// ```
    ///
    /// - Parameter rootValidity: The roots' validity (ten years by default).
    public static func temporary(
        rootValidity: CertificateValidity = .valid(days: 3650)
    ) throws(CardSimulatorError) -> TestCertificateAuthority {
        let directory = FileManager.default.temporaryDirectory.appending(
            path: "procurement-identity-ca-\(UUID().uuidString)")
        return try TestCertificateAuthority(directory: directory, rootValidity: rootValidity, removesDirectory: true)
    }

    private init(directory: URL, rootValidity: CertificateValidity, removesDirectory: Bool) throws(CardSimulatorError) {
        self.directory = directory
        self.removesDirectory = removesDirectory
        do {
            try FileManager.default.createDirectory(
                at: directory.appending(path: "issued"), withIntermediateDirectories: true)
        } catch {
            throw .fileAccessFailed(path: directory.path, reason: "\(error)")
        }
        var roots: [Hierarchy: Root] = [:]
        try Self.withLock(in: directory) { () throws(CardSimulatorError) in
            for hierarchy in Hierarchy.allCases {
                roots[hierarchy] = try Self.loadOrCreateRoot(hierarchy, in: directory, validity: rootValidity)
            }
        }
        self.roots = roots
    }

    deinit {
        if removesDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: Roots

    /// The root certificate of a hierarchy (the trust anchor for its cards).
    public func rootCertificate(_ hierarchy: Hierarchy) -> Certificate {
        // Every hierarchy was loaded or created in init.
        roots[hierarchy]!.certificate
    }

    /// A root certificate in PEM.
    public func rootCertificatePEM(_ hierarchy: Hierarchy) throws(CardSimulatorError) -> String {
        try pem(of: rootCertificate(hierarchy))
    }

    private static func loadOrCreateRoot(_ hierarchy: Hierarchy, in directory: URL, validity: CertificateValidity)
        throws(CardSimulatorError) -> Root
    {
        let folder = directory.appending(path: hierarchy.rawValue)
        let keyURL = folder.appending(path: "key.pem")
        let certificateURL = folder.appending(path: "certificate.pem")
        if FileManager.default.fileExists(atPath: certificateURL.path) {
            let key = try CardRSAKey(pemRepresentation: try readText(keyURL))
            do {
                return Root(key: key, certificate: try Certificate(pemEncoded: try readText(certificateURL)))
            } catch let error as CardSimulatorError {
                throw error
            } catch {
                throw .corruptState(path: certificateURL.path, reason: "\(error)")
            }
        }
        let key = try CardRSAKey.generate()
        let certificate: Certificate
        do {
            let subject = try hierarchy.subject
            let publicKey = try key.certificatePublicKey()
            certificate = try Certificate(
                version: .v3, serialNumber: Self.newSerialNumber(), publicKey: publicKey,
                notValidBefore: validity.notValidBefore, notValidAfter: validity.notValidAfter, issuer: subject,
                subject: subject, signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                }, issuerPrivateKey: try key.certificatePrivateKey())
        } catch let error as CardSimulatorError {
            throw error
        } catch {
            throw .certificateFailed("the \(hierarchy.rawValue) root could not be made: \(error)")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .fileAccessFailed(path: folder.path, reason: "\(error)")
        }
        try writeAtomically(Array(key.pemRepresentation.utf8), to: keyURL, permissions: 0o600)
        try writeAtomically(Array(try pemText(of: certificate).utf8), to: certificateURL, permissions: 0o644)
        return Root(key: key, certificate: certificate)
    }

    // MARK: Issuing

    /// Issues a JPKI-like signing certificate (署名用電子証明書): subject `C=JP, L=<prefecture>, L=<city>,
    /// CN=<opaque id>`, the holder in the subject alternative name (otherName `1.2.392.200149.8.5.5.1`…`.6`),
    /// key usage digitalSignature + nonRepudiation (critical), certificate policy `1.2.392.200149.8.5.1.1.20`
    /// (`…8.5.1.0.20` for a test card), issuer alternative name `C=JP, O=公的個人認証サービス`.
    public func issueJPKISigningCertificate(
        for holder: JPKIHolder, publicKey: CardRSAKey, validity: CertificateValidity, testCard: Bool = false
    ) throws(CardSimulatorError) -> Certificate {
        let holder = try holder.validated()
        let jpki: [UInt] = [1, 2, 392, 200149, 8, 5, 5]
        let sex: String
        switch holder.sex {
        case .male: sex = "1"
        case .female: sex = "2"
        case .notApplicable: sex = "3"
        }
        let names: [(UInt, String)] = [
            (1, holder.name), (2, ""), (3, sex), (4, Self.eraDigit(holder.dateOfBirth) + holder.dateOfBirth),
            (5, holder.address), (6, ""),
        ]
        return try issue(.jpkiSigning, validity: validity, publicKey: publicKey) {
            () throws -> (DistinguishedName, [Certificate.Extension]) in
            let subject = try DistinguishedName {
                CountryName("JP")
                LocalityName(holder.prefecture)
                LocalityName(holder.city)
                CommonName(Self.opaqueIdentifier())
            }
            let otherNames = try names.map { arc, value in
                GeneralName.otherName(
                    GeneralName.OtherName(
                        typeID: try ASN1ObjectIdentifier(elements: jpki + [arc]),
                        value: try ASN1Any(erasing: ASN1UTF8String(value))))
            }
            let policy: [UInt] = testCard ? [1, 2, 392, 200149, 8, 5, 1, 0, 20] : [1, 2, 392, 200149, 8, 5, 1, 1, 20]
            return (
                subject,
                [
                    try Certificate.Extension(KeyUsage(digitalSignature: true, nonRepudiation: true), critical: true),
                    try Certificate.Extension(SubjectAlternativeNames(otherNames), critical: false),
                    try Self.certificatePolicies([policy], cps: Self.jpkiCPS, critical: true),
                    try Self.jpkiIssuerAlternativeName(),
                ]
            )
        }
    }

    /// Issues a JPKI-like user-authentication certificate (利用者証明用電子証明書): an opaque `CN` only, key usage
    /// digitalSignature (critical), certificate policy `1.2.392.200149.8.5.1.3.30`.
    public func issueJPKIAuthenticationCertificate(publicKey: CardRSAKey, validity: CertificateValidity)
        throws(CardSimulatorError) -> Certificate
    {
        try issue(.jpkiAuthentication, validity: validity, publicKey: publicKey) {
            () throws -> (DistinguishedName, [Certificate.Extension]) in
            (
                try DistinguishedName { CommonName(Self.opaqueIdentifier()) },
                [
                    try Certificate.Extension(KeyUsage(digitalSignature: true), critical: true),
                    try Self.certificatePolicies(
                        [[1, 2, 392, 200149, 8, 5, 1, 3, 30]], cps: Self.jpkiCPS, critical: true),
                    try Self.jpkiIssuerAlternativeName(),
                ]
            )
        }
    }

    /// Issues an e-bidding IC card certificate: subject `C=JP, ST, L, street, O=<company>, CN=<holder>`, all in
    /// UTF8String; key usage digitalSignature + nonRepudiation (critical).
    public func issueEBiddingCertificate(
        for holder: EBiddingHolder, publicKey: CardRSAKey, validity: CertificateValidity
    ) throws(CardSimulatorError) -> Certificate {
        try issue(.eBidding, validity: validity, publicKey: publicKey) {
            () throws -> (DistinguishedName, [Certificate.Extension]) in
            let subject = DistinguishedName([
                RelativeDistinguishedName(
                    try RelativeDistinguishedName.Attribute(type: .RDNAttributeType.countryName, printableString: "JP")),
                RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(
                        type: .RDNAttributeType.stateOrProvinceName, utf8String: holder.prefecture)),
                RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(type: .RDNAttributeType.localityName, utf8String: holder.city)),
                RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(
                        type: .RDNAttributeType.streetAddress, utf8String: holder.street)),
                RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(
                        type: .RDNAttributeType.organizationName, utf8String: holder.companyName)),
                RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(type: .RDNAttributeType.commonName, utf8String: holder.name)),
            ])
            return (
                subject,
                [
                    try Certificate.Extension(KeyUsage(digitalSignature: true, nonRepudiation: true), critical: true),
                    try Self.certificatePolicies(
                        [Self.eBiddingPolicy], cps: "https://ca.procurement-identity.test/cps"),
                ]
            )
        }
    }

    /// The certificate policy of the test e-bidding CA (a UUID-based OID under `2.25`, RFC 4122 §4; nobody's real
    /// policy).
    public static let eBiddingPolicy: [UInt] = [2, 25, 0x5072_6F63, 0x4944_4943, 0x5465_7374]

    private func issue(
        _ hierarchy: Hierarchy, validity: CertificateValidity, publicKey: CardRSAKey,
        _ make: () throws -> (DistinguishedName, [Certificate.Extension])
    ) throws(CardSimulatorError) -> Certificate {
        let root = roots[hierarchy]!
        let certificate: Certificate
        do {
            let (subject, extensions) = try make()
            let subjectKey = try publicKey.certificatePublicKey()
            var all = extensions
            all.append(try Certificate.Extension(SubjectKeyIdentifier(hash: subjectKey), critical: false))
            all.append(
                try Certificate.Extension(
                    AuthorityKeyIdentifier(
                        keyIdentifier: SubjectKeyIdentifier(hash: root.certificate.publicKey).keyIdentifier),
                    critical: false))
            certificate = try Certificate(
                version: .v3, serialNumber: Self.newSerialNumber(), publicKey: subjectKey,
                notValidBefore: validity.notValidBefore, notValidAfter: validity.notValidAfter,
                issuer: root.certificate.subject, subject: subject, signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: try Certificate.Extensions(all), issuerPrivateKey: try root.key.certificatePrivateKey())
        } catch let error as CardSimulatorError {
            throw error
        } catch {
            throw .certificateFailed("\(error)")
        }
        let serial = Self.hex(certificate.serialNumber.bytes)
        try Self.writeAtomically(
            Array(try Self.pemText(of: certificate).utf8), to: directory.appending(path: "issued/\(serial).pem"),
            permissions: 0o644)
        try updateIndex { index in
            index.issued.append(
                IssuedCertificate(
                    serialNumber: serial, hierarchy: hierarchy, subject: "\(certificate.subject)", validity: validity,
                    revocation: nil))
        }
        return certificate
    }

    // MARK: Revocation and CRLs

    /// Revokes a certificate the authority issued.
    ///
    /// - Throws: ``CardSimulatorError/unknownSerialNumber(_:)`` when the authority never issued it.
    public func revoke(_ serialNumber: Certificate.SerialNumber, reason: RevocationReason, at date: Date = Date())
        throws(CardSimulatorError)
    {
        let serial = Self.hex(serialNumber.bytes)
        try updateIndex { (index: inout Index) throws(CardSimulatorError) in
            guard let i = index.issued.firstIndex(where: { $0.serialNumber == serial }) else {
                throw .unknownSerialNumber(serial)
            }
            index.issued[i].revocation = Revocation(date: date, reasonCode: reason.rawValue)
        }
    }

    /// Every certificate issued so far, oldest first, with its revocation.
    public func issuedCertificates() throws(CardSimulatorError) -> [IssuedCertificate] {
        try Self.withLock(in: directory) { () throws(CardSimulatorError) in try readIndex().issued }
    }

    /// Signs a CRL (RFC 5280, v2) for a hierarchy listing its revoked certificates with their reason codes, with a
    /// CRL number one higher than the last, and writes it to `DIR/<hierarchy>/crl.der`.
    ///
    /// - Parameters:
    ///   - hierarchy: The hierarchy whose root signs the CRL.
    ///   - thisUpdate: The CRL's issue time.
    ///   - nextUpdate: When the next CRL is due; a day later by default.
    /// - Returns: The CRL, DER.
    public func publishCRL(for hierarchy: Hierarchy, thisUpdate: Date = Date(), nextUpdate: Date? = nil)
        throws(CardSimulatorError) -> [UInt8]
    {
        let root = roots[hierarchy]!
        var der: [UInt8] = []
        try updateIndex { (index: inout Index) throws(CardSimulatorError) in
            let number = (index.crlNumbers[hierarchy] ?? 0) + 1
            index.crlNumbers[hierarchy] = number
            var builder = CRLBuilder(
                issuer: root.certificate.subject, thisUpdate: thisUpdate,
                nextUpdate: nextUpdate ?? thisUpdate.addingTimeInterval(86_400), crlNumber: UInt64(number))
            for entry in index.issued where entry.hierarchy == hierarchy {
                guard let revocation = entry.revocation else { continue }
                builder.revoke(
                    serialNumber: Certificate.SerialNumber(bytes: Self.bytes(fromHex: entry.serialNumber)),
                    at: revocation.date, reason: revocation.reason)
            }
            do {
                der = try builder.sign(algorithm: .sha256WithRSAEncryption) { tbsCertList in
                    try root.key.signPKCS1(digestInfo: DigestInfo(hashing: tbsCertList, with: .sha256).derEncoded)
                }
            } catch let error as CardSimulatorError {
                throw error
            } catch {
                throw .cryptographyFailed(operation: "signing the CRL (\(error))")
            }
        }
        try Self.writeAtomically(
            der, to: directory.appending(path: "\(hierarchy.rawValue)/crl.der"), permissions: 0o644)
        return der
    }

    // MARK: Files and locking

    private func updateIndex(_ change: (inout Index) throws(CardSimulatorError) -> Void) throws(CardSimulatorError) {
        try Self.withLock(in: directory) { () throws(CardSimulatorError) in
            var index = try readIndex()
            try change(&index)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            let data: Data
            do { data = try encoder.encode(index) } catch {
                throw .corruptState(path: indexURL.path, reason: "\(error)")
            }
            try Self.writeAtomically(Array(data), to: indexURL, permissions: 0o644)
        }
    }

    private var indexURL: URL { directory.appending(path: "index.json") }

    private func readIndex() throws(CardSimulatorError) -> Index {
        guard let data = FileManager.default.contents(atPath: indexURL.path) else { return Index() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(Index.self, from: data) } catch {
            throw .corruptState(path: indexURL.path, reason: "\(error)")
        }
    }

    /// Runs `body` holding an exclusive `flock` on `DIR/.lock` (blocking until other processes release it).
    static func withLock<T>(in directory: URL, _ body: () throws(CardSimulatorError) -> T) throws(CardSimulatorError)
        -> T
    {
        let path = directory.appending(path: ".lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileAccessFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .fileAccessFailed(path: path, reason: String(cString: strerror(errno))) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    static func writeAtomically(_ bytes: [UInt8], to url: URL, permissions: Int) throws(CardSimulatorError) {
        let temporary = url.deletingLastPathComponent().appending(
            path: ".\(url.lastPathComponent).\(UUID().uuidString)")
        do {
            // Made with its final permissions, so a private key is never readable by others, not even briefly.
            let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, mode_t(permissions))
            guard fd >= 0 else {
                throw CardSimulatorError.fileAccessFailed(
                    path: temporary.path, reason: String(cString: strerror(errno)))
            }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(bytes))
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                throw CardSimulatorError.fileAccessFailed(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .fileAccessFailed(path: url.path, reason: "\(error)")
        }
    }

    static func readText(_ url: URL) throws(CardSimulatorError) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .fileAccessFailed(path: url.path, reason: "the file cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Helpers

    private func pem(of certificate: Certificate) throws(CardSimulatorError) -> String {
        try Self.pemText(of: certificate)
    }

    static func pemText(of certificate: Certificate) throws(CardSimulatorError) -> String {
        do { return try certificate.serializeAsPEM().pemString } catch {
            throw .certificateFailed("the certificate could not be written as PEM: \(error)")
        }
    }

    /// A random serial number of at most 20 octets, as RFC 5280 §4.1.2.2 requires: 20 random bytes with the top
    /// bit cleared, so DER needs no leading zero. (swift-certificates' default may need 21 octets, which NSS —
    /// and so poppler's pdfsig — cannot match to a CMS signer.)
    static func newSerialNumber() -> Certificate.SerialNumber {
        var bytes = (0..<20).map { _ in UInt8.random(in: 0...255) }
        bytes[0] = bytes[0] & 0x7F | 0x10
        return Certificate.SerialNumber(bytes: bytes[...])
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16, uppercase: true).leftPadded() }.joined()
    }

    static func bytes(fromHex text: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = hexValue(high), let l = hexValue(low) else { return out }
            out.append(h << 4 | l)
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x37
        case 0x61...0x66: c - 0x57
        default: nil
        }
    }

    /// A 20-character opaque identifier, as JPKI subjects carry.
    static func opaqueIdentifier() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }

    /// The era digit JPKI puts before a date of birth: 1 明治 … 5 令和, 0 unknown.
    static func eraDigit(_ yyyymmdd: String) -> String {
        guard let date = Int(yyyymmdd) else { return "0" }
        switch date {
        case 1868_0125..<1912_0730: return "1"
        case 1912_0730..<1926_1225: return "2"
        case 1926_1225..<1989_0108: return "3"
        case 1989_0108..<2019_0501: return "4"
        case 2019_0501...: return "5"
        default: return "0"
        }
    }

    /// The certificate policies extension, each policy with a CPS qualifier (`cps`). Critical in JPKI
    /// certificates, as the J-LIS certificate profile has it.
    private static func certificatePolicies(_ policies: [[UInt]], cps: String, critical: Bool = false) throws
        -> Certificate.Extension
    {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            for policy in policies {
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(try ASN1ObjectIdentifier(elements: policy))
                    // policyQualifiers: one id-qt-cps qualifier with the CPS address.
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.serialize(ASN1ObjectIdentifier(elements: [1, 3, 6, 1, 5, 5, 7, 2, 1]))
                            try coder.serialize(ASN1IA5String(cps))
                        }
                    }
                }
            }
        }
        return Certificate.Extension(oid: [2, 5, 29, 32], critical: critical, value: serializer.serializedBytes[...])
    }

    /// The address of JPKI's certification practice statement, as its certificates name it.
    private static let jpkiCPS = "http://www.jpki.go.jp/cps.html"

    private static func jpkiIssuerAlternativeName() throws -> Certificate.Extension {
        let name = try DistinguishedName {
            CountryName("JP")
            OrganizationName("公的個人認証サービス")
        }
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(GeneralName.directoryName(name))
        }
        return Certificate.Extension(oid: [2, 5, 29, 18], critical: false, value: serializer.serializedBytes[...])
    }
}

extension String {
    fileprivate func leftPadded() -> String { count == 1 ? "0" + self : self }
}
