public import Foundation
import SwiftASN1
import X509

extension CMSSignedData {
    /// Signs `content` with any ``Signer`` (an IC card or a file credential) and returns DER SignedData.
    ///
    /// The SignerInfo carries the signed attributes content-type (`id-data`), message-digest, signing-time and
    /// ESS signing-certificate-v2 (RFC 5035, SHA-256 of the signer's certificate with its issuer and serial),
    /// and names the signer by issuer and serial number. The signature covers the DER `SET OF` those
    /// attributes (RFC 5652 §5.4), so a card signs only a short structure whatever the content's size.
    ///
    /// - Parameters:
    ///   - content: The data to sign.
    ///   - signer: The key and its certificate.
    ///   - algorithm: The signature algorithm; the signer's ``Signer/defaultAlgorithm`` when `nil`.
    ///   - detached: `true` (default) leaves the content out (a `.p7s` next to the file); `false` puts it inside.
    ///   - signingTime: The time put in the signing-time attribute; `nil` leaves the attribute out, as PAdES
    ///     (ETSI EN 319 142-1) wants: a PDF signature's time is its dictionary's `/M`.
    ///   - includeChain: Whether the signer's ``Signer/chain`` is included next to its certificate.
    /// - Throws: ``CardCredentialsError/unsupportedSignatureAlgorithm(_:)``, or the signer's errors (a card's
    ///   wrong PIN, removal).
    public static func sign(
        _ content: [UInt8], with signer: some Signer, algorithm: SigningAlgorithm? = nil,
        detached: Bool = true,
        signingTime: Date? = Date(), includeChain: Bool = true
    ) async throws -> CMSSignedData {
        let algorithm = algorithm ?? signer.defaultAlgorithm
        guard signer.supportedAlgorithms.contains(algorithm) else {
            throw CardCredentialsError.unsupportedSignatureAlgorithm(
                "this key signs with \(signer.supportedAlgorithms), not \(algorithm)")
        }
        let certificate = signer.certificate
        let digest = algorithm.digest.hash(content)
        let attributes = try signedAttributes(
            digest: digest, certificate: certificate, signingTime: signingTime)
        var attributeCoder = DER.Serializer()
        try attributeCoder.serializeSetOf(attributes)
        let signedBytes = attributeCoder.serializedBytes

        let signature = try await signer.sign(signedBytes, algorithm: algorithm)

        var certificates = [certificate]
        if includeChain {
            certificates += signer.chain.filter { $0 != certificate }
        }
        let der = try encode(
            content: detached ? nil : content, algorithm: algorithm, certificate: certificate,
            certificates: certificates, signedAttributes: signedBytes, signature: signature)
        return try CMSSignedData(derEncoded: der)
    }

    private static func signedAttributes(
        digest: [UInt8], certificate: Certificate, signingTime: Date?
    ) throws -> [CMSEncoding.Attribute] {
        var certificateCoder = DER.Serializer()
        try certificateCoder.serialize(certificate)
        let certificateHash = DigestAlgorithm.sha256.hash(certificateCoder.serializedBytes)
        // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
        // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (omitted), certHash, issuerSerial }
        // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }; directoryName is [4] EXPLICIT Name.
        let signingCertificate = try CMSEncoding.any { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(ASN1OctetString(contentBytes: certificateHash[...]))
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.appendConstructedNode(identifier: CMSEncoding.context4) { coder in
                                    try coder.serialize(certificate.issuer)
                                }
                            }
                            try coder.serialize(certificate.serialNumber.bytes)
                        }
                    }
                }
            }
        }
        var attributes = [
            CMSEncoding.Attribute(type: CMSOID.contentType, values: [try ASN1Any(erasing: CMSOID.data)])
        ]
        if let signingTime {
            attributes.append(
                CMSEncoding.Attribute(type: CMSOID.signingTime, values: [try CMSEncoding.time(signingTime)]))
        }
        attributes += [
            CMSEncoding.Attribute(
                type: CMSOID.messageDigest,
                values: [try ASN1Any(erasing: ASN1OctetString(contentBytes: digest[...]))]),
            CMSEncoding.Attribute(type: CMSOID.signingCertificateV2, values: [signingCertificate]),
        ]
        return attributes
    }

    private static func encode(
        content: [UInt8]?, algorithm: SigningAlgorithm, certificate: Certificate,
        certificates: [Certificate],
        signedAttributes: [UInt8], signature: [UInt8]
    ) throws -> [UInt8] {
        let digestOID = CMSOID.digest(algorithm.digest)
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in  // ContentInfo
            try coder.serialize(CMSOID.signedData)
            try coder.appendConstructedNode(identifier: CMSEncoding.context0) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in  // SignedData
                    // version 1: issuerAndSerialNumber, id-data, no attribute certificates.
                    try coder.serialize(1)
                    try coder.appendConstructedNode(identifier: .set) { coder in
                        try CMSEncoding.writeAlgorithm(digestOID, null: false, into: &coder)
                    }
                    // EncapsulatedContentInfo
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(CMSOID.data)
                        if let content {
                            try coder.appendConstructedNode(identifier: CMSEncoding.context0) { coder in
                                try coder.serialize(ASN1OctetString(contentBytes: content[...]))
                            }
                        }
                    }
                    try coder.serializeSetOf(certificates, identifier: CMSEncoding.context0)
                    try coder.appendConstructedNode(identifier: .set) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in  // SignerInfo
                            try coder.serialize(1)
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(certificate.issuer)
                                try coder.serialize(certificate.serialNumber.bytes)
                            }
                            try CMSEncoding.writeAlgorithm(digestOID, null: false, into: &coder)
                            // signedAttrs [0] IMPLICIT: the very bytes that were signed, with the [0] tag.
                            coder.serializeRawBytes([0xA0] + signedAttributes.dropFirst())
                            try CMSEncoding.writeAlgorithm(
                                CMSOID.signature(algorithm), null: algorithm.keyType == .rsaPKCS1v15, into: &coder)
                            try coder.serialize(ASN1OctetString(contentBytes: signature[...]))
                        }
                    }
                }
            }
        }
        return coder.serializedBytes
    }
}
