public import Foundation
import SwiftASN1
public import X509

/// A CMS SignedData (RFC 5652, the `.p7s` of S/MIME and most e-filing systems): content (attached) or its
/// hash (detached), signed by one or more signers, with their certificates.
///
/// Make one with ``sign(_:with:algorithm:detached:signingTime:includeChain:)`` from any ``Signer`` — an IC card
/// or a file credential — and check one with ``verify(content:certificates:validator:purpose:at:)``.
///
/// ```swift
/// let signed = try await CMSSignedData.sign(document, with: cardKey, detached: true)
/// try signed.derEncoded.write(to: "bid.p7s")
///
/// let received = try CMSSignedData(bytes: p7sBytes)  // DER, BER or PEM
/// let result = try await received.verify(content: document, validator: validator)
/// print(result.signers[0].certificate.subject)
/// ```
public struct CMSSignedData: Sendable {
    /// The encoding the value was read from or written as (DER when written by this library).
    public let derEncoded: [UInt8]
    /// The encapsulated content, or `nil` for a detached signature.
    public let content: [UInt8]?
    /// The certificates the SignedData carries (signers' and chain certificates).
    public let certificates: [Certificate]
    /// One entry per signer.
    public let signerInfos: [CMSSignerInfo]
    /// The encapsulated content's type (`id-data` for plain data).
    let contentType: ASN1ObjectIdentifier

    /// Whether the content is not inside the SignedData (a detached signature).
    public var isDetached: Bool { content == nil }

    /// The SignedData as PEM text (`-----BEGIN CMS-----`).
    public var pemEncoded: String {
        PEMDocument(type: "CMS", derBytes: derEncoded).pemString
    }

    /// Reads a DER (or BER) `ContentInfo` holding SignedData.
    ///
    /// - Throws: ``CardCredentialsError/malformedCMS(_:)`` for anything that is not SignedData, including
    ///   truncated bytes and unknown algorithms.
    public init(derEncoded bytes: [UInt8]) throws(CardCredentialsError) {
        do {
            self = try CMSSignedData.parse(bytes)
        } catch let error as CardCredentialsError {
            throw error
        } catch {
            throw .malformedCMS("the bytes are not BER/DER SignedData (\(error))")
        }
    }

    /// Reads PEM text: a `CMS` or `PKCS7` block.
    ///
    /// - Throws: ``CardCredentialsError/malformedCMS(_:)``.
    public init(pemEncoded text: String) throws(CardCredentialsError) {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: text)
        } catch {
            throw .malformedCMS("the text is not one PEM block")
        }
        guard ["CMS", "PKCS7"].contains(document.discriminator) else {
            throw .malformedCMS("a PEM \(document.discriminator) block is not CMS or PKCS7")
        }
        try self.init(derEncoded: document.derBytes)
    }

    /// Reads DER, BER or PEM, whichever `bytes` holds (as from a `.p7s` or `.p7m` file).
    ///
    /// - Throws: ``CardCredentialsError/malformedCMS(_:)``.
    public init(bytes: [UInt8]) throws(CardCredentialsError) {
        let dashes = Array("-----BEGIN".utf8)
        let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if trimmed.starts(with: dashes) {
            try self.init(pemEncoded: String(decoding: trimmed, as: UTF8.self))
        } else {
            try self.init(derEncoded: bytes)
        }
    }

    init(
        derEncoded: [UInt8], content: [UInt8]?, certificates: [Certificate],
        signerInfos: [CMSSignerInfo],
        contentType: ASN1ObjectIdentifier
    ) {
        self.derEncoded = derEncoded
        self.content = content
        self.certificates = certificates
        self.signerInfos = signerInfos
        self.contentType = contentType
    }

    private static func parse(_ bytes: [UInt8]) throws -> CMSSignedData {
        guard !bytes.isEmpty else { throw CardCredentialsError.malformedCMS("the input is empty") }
        let root = try BER.parse(bytes)
        let contentInfo = try CMSEncoding.sequence(root, "ContentInfo")
        guard contentInfo.count == 2 else {
            throw CardCredentialsError.malformedCMS("ContentInfo has \(contentInfo.count) parts")
        }
        guard try ASN1ObjectIdentifier(berEncoded: contentInfo[0]) == CMSOID.signedData else {
            throw CardCredentialsError.malformedCMS("the content is not SignedData")
        }
        let wrapper = try CMSEncoding.sequence(
            contentInfo[1], "ContentInfo content", identifier: CMSEncoding.context0)
        guard wrapper.count == 1 else {
            throw CardCredentialsError.malformedCMS("ContentInfo content is not one element")
        }
        var parts = try CMSEncoding.sequence(wrapper[0], "SignedData")[...]
        guard parts.count >= 4 else {
            throw CardCredentialsError.malformedCMS("SignedData is incomplete")
        }
        let version = try Int(berEncoded: parts.removeFirst())
        let listedDigests = try CMSEncoding.sequence(parts.removeFirst(), "digestAlgorithms", identifier: .set).map {
            try CMSEncoding.digestAlgorithm($0, "digestAlgorithms")
        }

        let encapsulated = try CMSEncoding.sequence(parts.removeFirst(), "EncapsulatedContentInfo")
        guard let typeNode = encapsulated.first else {
            throw CardCredentialsError.malformedCMS("EncapsulatedContentInfo is empty")
        }
        let contentType = try ASN1ObjectIdentifier(berEncoded: typeNode)
        var content: [UInt8]?
        if encapsulated.count > 1 {
            let explicit = try CMSEncoding.sequence(
                encapsulated[1], "eContent", identifier: CMSEncoding.context0)
            guard explicit.count == 1 else {
                throw CardCredentialsError.malformedCMS("eContent is not one OCTET STRING")
            }
            content = try CMSEncoding.octets(explicit[0])
        }

        var certificates: [Certificate] = []
        var otherChoices = VersionInputs()
        if let next = parts.first, next.identifier == CMSEncoding.context0 {
            parts.removeFirst()
            for node in try CMSEncoding.children(next, "certificates") {
                switch node.identifier {
                case .sequence: certificates.append(try Certificate(untrustedDER: Array(node.encodedBytes)))
                // Other choices are skipped, but they decide the version.
                case CMSEncoding.context1: otherChoices.v1AttributeCertificates = true
                case CMSEncoding.context2: otherChoices.v2AttributeCertificates = true
                case CMSEncoding.context3: otherChoices.otherFormats = true
                default: break
                }
            }
        }
        if let next = parts.first, next.identifier == CMSEncoding.context1 {
            parts.removeFirst()  // CRLs are not used here, but an "other" revocation format decides the version.
            if try CMSEncoding.children(next, "crls").contains(where: { $0.identifier == CMSEncoding.context1 }) {
                otherChoices.otherFormats = true
            }
        }
        guard parts.count == 1, let signerSet = parts.first else {
            throw CardCredentialsError.malformedCMS("SignedData has no signerInfos")
        }
        let signerInfos = try CMSEncoding.sequence(signerSet, "signerInfos", identifier: .set).map {
            try CMSSignerInfo(parsing: $0)
        }
        guard !signerInfos.isEmpty else {
            throw CardCredentialsError.malformedCMS("SignedData has no signer")
        }
        // Nothing of these is covered by a signature, so each is checked against RFC 5652 rather than ignored: a
        // SignedData whose version or digest list was altered is refused, not verified.
        otherChoices.signerVersion3 = signerInfos.contains { $0.version == 3 }
        otherChoices.contentIsNotData = contentType != CMSOID.data
        guard version == otherChoices.requiredVersion else {
            throw CardCredentialsError.malformedCMS(
                "SignedData has version \(version), but RFC 5652 (5.1) requires \(otherChoices.requiredVersion) for "
                    + "what it holds")
        }
        for (index, signer) in signerInfos.enumerated() where !listedDigests.contains(signer.digestAlgorithm) {
            throw CardCredentialsError.malformedCMS(
                "signer \(index + 1)'s digest algorithm \(signer.digestAlgorithm) is not listed in SignedData's "
                    + "digestAlgorithms (RFC 5652 5.1)")
        }
        return CMSSignedData(
            derEncoded: bytes, content: content, certificates: certificates, signerInfos: signerInfos,
            contentType: contentType)
    }
}

/// What decides a SignedData's version (RFC 5652 5.1).
private struct VersionInputs {
    var otherFormats = false
    var v2AttributeCertificates = false
    var v1AttributeCertificates = false
    var signerVersion3 = false
    var contentIsNotData = false

    /// The version RFC 5652 assigns: 5, 4, 3 or 1.
    var requiredVersion: Int {
        if otherFormats { return 5 }
        if v2AttributeCertificates { return 4 }
        if v1AttributeCertificates || signerVersion3 || contentIsNotData { return 3 }
        return 1
    }
}

/// One signer of a ``CMSSignedData``: who (by issuer and serial number, or key identifier), how, when, and the
/// signature.
public struct CMSSignerInfo: Sendable {
    /// How a SignerInfo names its certificate.
    public enum Identifier: Sendable, Hashable {
        /// The certificate's issuer and serial number (the serial's INTEGER content bytes).
        case issuerAndSerialNumber(issuer: DistinguishedName, serialNumber: [UInt8])
        /// The certificate's subject key identifier.
        case subjectKeyIdentifier([UInt8])
    }

    /// Which certificate signed.
    public let identifier: Identifier
    /// The signature algorithm and digest.
    public let algorithm: SigningAlgorithm
    /// The signing-time attribute, if present (the signer's own clock: not a trusted time stamp).
    public let signingTime: Date?
    /// The signature value.
    public let signature: [UInt8]
    /// Whether the signature covers signed attributes (rather than the content directly).
    public var hasSignedAttributes: Bool { signedAttributes != nil }

    /// The SignerInfo's version: 1 (issuer and serial number) or 3 (subject key identifier).
    let version: Int
    /// The digest algorithm's object identifier, as written.
    let digestAlgorithm: ASN1ObjectIdentifier
    /// The DER `SET OF Attribute` the signature covers, when there are signed attributes.
    let signedAttributes: [UInt8]?
    /// The message-digest attribute.
    let messageDigest: [UInt8]?
    /// The content-type attribute.
    let contentTypeAttribute: ASN1ObjectIdentifier?
    /// The SHA-256 hashes and issuer serials of the ESS signing-certificate-v2 attribute, if present.
    let signingCertificateHashes: [(algorithm: DigestAlgorithm, hash: [UInt8])]?

    init(parsing node: ASN1Node) throws {
        var parts = try CMSEncoding.sequence(node, "SignerInfo")[...]
        guard parts.count >= 5 else {
            throw CardCredentialsError.malformedCMS("SignerInfo is incomplete")
        }
        version = try Int(berEncoded: parts.removeFirst())
        let sid = parts.removeFirst()
        if sid.identifier == .sequence {
            guard version == 1 else {
                throw CardCredentialsError.malformedCMS(
                    "SignerInfo has version \(version), but one that names its certificate by issuer and serial "
                        + "number has version 1 (RFC 5652 5.3)")
            }
            let issuerAndSerial = try CMSEncoding.children(sid, "IssuerAndSerialNumber")
            guard issuerAndSerial.count == 2 else {
                throw CardCredentialsError.malformedCMS(
                    "IssuerAndSerialNumber has \(issuerAndSerial.count) parts")
            }
            let issuer = try DistinguishedName(derEncoded: DER.parse(issuerAndSerial[0].encodedBytes))
            let serial = try ArraySlice<UInt8>(berEncoded: issuerAndSerial[1])
            identifier = .issuerAndSerialNumber(issuer: issuer, serialNumber: Array(serial))
        } else if sid.identifier == CMSEncoding.context0 {
            guard version == 3 else {
                throw CardCredentialsError.malformedCMS(
                    "SignerInfo has version \(version), but one that names its certificate by subject key "
                        + "identifier has version 3 (RFC 5652 5.3)")
            }
            identifier = .subjectKeyIdentifier(try CMSEncoding.octets(sid))
        } else {
            throw CardCredentialsError.malformedCMS("SignerIdentifier has tag \(sid.identifier)")
        }
        let digestOID = try CMSEncoding.digestAlgorithm(parts.removeFirst(), "digestAlgorithm")
        digestAlgorithm = digestOID
        guard let digest = CMSOID.digestAlgorithm(digestOID) else {
            throw CardCredentialsError.malformedCMS(
                "digest algorithm \(digestOID) is not SHA-256/384/512")
        }

        var signedAttributes: [UInt8]?
        var messageDigest: [UInt8]?
        var contentType: ASN1ObjectIdentifier?
        var signingTime: Date?
        var signingCertificateHashes: [(algorithm: DigestAlgorithm, hash: [UInt8])]?
        if let next = parts.first, next.identifier == CMSEncoding.context0 {
            parts.removeFirst()
            // The signature covers the DER SET OF: the same bytes with the SET tag instead of [0] (RFC 5652 §5.4).
            var bytes = Array(next.encodedBytes)
            bytes[0] = 0x31
            signedAttributes = bytes
            for attribute in try CMSEncoding.children(next, "signedAttrs") {
                let pieces = try CMSEncoding.sequence(attribute, "Attribute")
                guard pieces.count == 2 else {
                    throw CardCredentialsError.malformedCMS("an attribute is incomplete")
                }
                let type = try ASN1ObjectIdentifier(berEncoded: pieces[0])
                let values = try CMSEncoding.sequence(pieces[1], "attribute values", identifier: .set)
                guard let value = values.first, values.count == 1 || type == CMSOID.signingCertificateV2
                else {
                    if [CMSOID.messageDigest, CMSOID.contentType, CMSOID.signingTime].contains(type) {
                        throw CardCredentialsError.malformedCMS("attribute \(type) must have exactly one value")
                    }
                    continue
                }
                switch type {
                case CMSOID.messageDigest:
                    guard messageDigest == nil else {
                        throw CardCredentialsError.malformedCMS("two message digests")
                    }
                    messageDigest = try CMSEncoding.octets(value)
                case CMSOID.contentType:
                    contentType = try ASN1ObjectIdentifier(berEncoded: value)
                case CMSOID.signingTime:
                    signingTime = try CMSEncoding.date(value)
                case CMSOID.signingCertificateV2:
                    signingCertificateHashes = try Self.signingCertificateHashes(value)
                default:
                    break
                }
            }
        }
        let signatureOID = try CMSEncoding.algorithm(parts.removeFirst(), "signatureAlgorithm")
        guard let algorithm = CMSOID.signingAlgorithm(signature: signatureOID, digest: digest) else {
            // A well-formed signature made another way (such as RSASSA-PSS) is said to be unsupported, not broken.
            let name =
                signatureOID == [1, 2, 840, 113_549, 1, 1, 10] ? "RSASSA-PSS (\(signatureOID))" : "\(signatureOID)"
            throw CardCredentialsError.unsupportedSignatureAlgorithm(
                "the signature uses \(name) with \(digest), which this library does not verify: it verifies RSA "
                    + "PKCS#1 v1.5 and ECDSA with SHA-256, SHA-384 or SHA-512")
        }
        guard let signatureNode = parts.first, signatureNode.identifier == .octetString else {
            throw CardCredentialsError.malformedCMS("SignerInfo has no signature")
        }
        self.signature = try CMSEncoding.octets(signatureNode)
        self.algorithm = algorithm
        self.signedAttributes = signedAttributes
        self.messageDigest = messageDigest
        self.contentTypeAttribute = contentType
        self.signingTime = signingTime
        self.signingCertificateHashes = signingCertificateHashes
    }

    /// Reads `SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash, … } }`.
    private static func signingCertificateHashes(_ node: ASN1Node) throws -> [(
        algorithm: DigestAlgorithm, hash: [UInt8]
    )] {
        let value = try CMSEncoding.sequence(node, "SigningCertificateV2")
        guard let certs = value.first else {
            throw CardCredentialsError.malformedCMS("SigningCertificateV2 is empty")
        }
        return try CMSEncoding.sequence(certs, "SigningCertificateV2 certs").map { certID in
            let fields = try CMSEncoding.sequence(certID, "ESSCertIDv2")
            var index = 0
            var algorithm = DigestAlgorithm.sha256
            if let first = fields.first, first.identifier == .sequence {
                let oid = try CMSEncoding.algorithm(first, "ESSCertIDv2 hashAlgorithm")
                guard let named = CMSOID.digestAlgorithm(oid) else {
                    throw CardCredentialsError.malformedCMS("ESSCertIDv2 hash \(oid) is not SHA-256/384/512")
                }
                algorithm = named
                index = 1
            }
            guard fields.count > index, fields[index].identifier == .octetString else {
                throw CardCredentialsError.malformedCMS("ESSCertIDv2 has no certHash")
            }
            return (algorithm, try CMSEncoding.octets(fields[index]))
        }
    }

    /// Whether `certificate` is the one this SignerInfo names.
    func names(_ certificate: Certificate) -> Bool {
        switch identifier {
        case .issuerAndSerialNumber(let issuer, let serialNumber):
            return certificate.issuer == issuer
                && CMSEncoding.unsignedMagnitude(certificate.serialNumber.bytes)
                    == CMSEncoding.unsignedMagnitude(serialNumber[...])
        case .subjectKeyIdentifier(let keyIdentifier):
            guard let ski = try? certificate.extensions.subjectKeyIdentifier else { return false }
            return Array(ski.keyIdentifier) == keyIdentifier
        }
    }
}

extension CMSSignedData {
    /// The same SignedData with `content` put inside: a detached signature (a `.p7s`, as a card agent returns it)
    /// becomes an attached one (a `.p7m`) that a receiver reads on its own. The signatures cover the content's
    /// digest, not where it is carried, so they stay valid for the same content; nothing is checked here: verify
    /// first (``verifySignaturesOnly(content:certificates:)``), attach afterwards.
    ///
    /// ```swift
    /// let detached = try CMSSignedData(derEncoded: fromTheAgent)
    /// _ = try detached.verifySignaturesOnly(content: request)
    /// let p7m = try detached.attaching(request).derEncoded
    /// ```
    ///
    /// - Throws: ``CardCredentialsError/malformedCMS(_:)`` when the SignedData carries content already, its content
    ///   type is not `id-data`, or it is not DER.
    public func attaching(_ content: [UInt8]) throws(CardCredentialsError) -> CMSSignedData {
        guard isDetached else { throw .malformedCMS("the SignedData carries its content already") }
        guard contentType == CMSOID.data else { throw .malformedCMS("the content type is not id-data") }
        let bytes: [UInt8]
        do {
            let contentInfo = try CMSEncoding.sequence(try DER.parse(derEncoded), "ContentInfo")
            let wrapper = try CMSEncoding.sequence(
                contentInfo[1], "ContentInfo content", identifier: CMSEncoding.context0)
            let parts = try CMSEncoding.sequence(wrapper[0], "SignedData")
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: .sequence) { coder in  // ContentInfo
                try coder.serialize(CMSOID.signedData)
                try coder.appendConstructedNode(identifier: CMSEncoding.context0) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in  // SignedData
                        for (index, part) in parts.enumerated() {
                            // version, digestAlgorithms, then EncapsulatedContentInfo: the one part that changes.
                            guard index == 2 else {
                                coder.serializeRawBytes(part.encodedBytes)
                                continue
                            }
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(CMSOID.data)
                                try coder.appendConstructedNode(identifier: CMSEncoding.context0) { coder in
                                    try coder.serialize(ASN1OctetString(contentBytes: content[...]))
                                }
                            }
                        }
                    }
                }
            }
            bytes = coder.serializedBytes
        } catch {
            throw .malformedCMS("the SignedData is not DER (\(error))")
        }
        return try CMSSignedData(derEncoded: bytes)
    }
}
