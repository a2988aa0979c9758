public import Foundation
import SwiftASN1
public import X509

/// What ``CMSSignedData/verify(content:certificates:validator:purpose:at:)`` found: the content that was signed
/// and each signer, all of whose signatures are valid.
public struct CMSVerification: Sendable {
    /// The signed content (the attached content, or the detached content given).
    public let content: [UInt8]
    /// The signers, in the SignedData's order.
    public let signers: [CMSVerifiedSigner]
}

/// A signer whose signature was checked.
public struct CMSVerifiedSigner: Sendable {
    /// The signer's certificate.
    public let certificate: Certificate
    /// The algorithm of the signature.
    public let algorithm: SigningAlgorithm
    /// The signing-time attribute, if present (the signer's own clock, not a trusted time stamp).
    public let signingTime: Date?
    /// The chain from the certificate to a trust anchor; empty after
    /// ``CMSSignedData/verifySignaturesOnly(content:certificates:)``, which trusts no one.
    public let chain: [Certificate]
}

extension CMSSignedData {
    /// Checks every signature of the SignedData and that each signer's certificate is trusted.
    ///
    /// For each SignerInfo: the signer's certificate is found (in the SignedData or in `certificates`); with
    /// signed attributes, the content-type attribute must match, the message-digest attribute must equal the
    /// content's digest, an ESS signing-certificate-v2 attribute must name that certificate, and the signature
    /// must verify over the DER `SET OF` attributes; without them, over the content itself. The certificate must
    /// then be valid for `purpose` at `time` under `validator` (the SignedData's certificates are offered as
    /// intermediates). Trust is required: a signature made with any self-signed certificate verifies
    /// mathematically, so a check without trust anchors is a separate call,
    /// ``verifySignaturesOnly(content:certificates:)``, whose name says what it does not check.
    ///
    /// - Parameters:
    ///   - content: The signed content, required for a detached signature; for an attached one it must equal
    ///     the content inside when given.
    ///   - certificates: Extra certificates in which to look for the signer (when the SignedData has none).
    ///   - validator: Trust anchors, CRLs and rules for the signer's certificate.
    ///   - purpose: What the signer's certificate must allow.
    ///   - time: The validation time.
    /// - Throws: ``CardCredentialsError/cmsContentMissing``, ``CardCredentialsError/cmsContentMismatch``,
    ///   ``CardCredentialsError/cmsSignatureInvalid``, ``CardCredentialsError/cmsSignerCertificateMissing``,
    ///   ``CardCredentialsError/cmsSignerNotTrusted(_:)``, ``CardCredentialsError/malformedCMS(_:)``.
    public func verify(
        content: [UInt8]? = nil, certificates: [Certificate] = [],
        validator: CertificateValidator, purpose: CertificatePurpose = .signing,
        at time: Date = Date()
    ) async throws(CardCredentialsError) -> CMSVerification {
        try await check(content: content, certificates: certificates, trust: (validator, purpose, time))
    }

    /// Checks every signature of the SignedData, and nothing about who made them: any certificate, self-signed
    /// or expired, that the signature matches is accepted. For tests and for callers that check trust
    /// themselves; a document's recipient calls ``verify(content:certificates:validator:purpose:at:)``.
    ///
    /// - Parameters:
    ///   - content: The signed content, required for a detached signature.
    ///   - certificates: Extra certificates in which to look for the signer.
    /// - Throws: As ``verify(content:certificates:validator:purpose:at:)``, but never
    ///   ``CardCredentialsError/cmsSignerNotTrusted(_:)``.
    public func verifySignaturesOnly(content: [UInt8]? = nil, certificates: [Certificate] = [])
        async throws(CardCredentialsError) -> CMSVerification
    {
        try await check(content: content, certificates: certificates, trust: nil)
    }

    private func check(
        content: [UInt8]?, certificates: [Certificate],
        trust: (validator: CertificateValidator, purpose: CertificatePurpose, time: Date)?
    ) async throws(CardCredentialsError) -> CMSVerification {
        let signedContent: [UInt8]
        switch (self.content, content) {
        case (nil, nil):
            throw .cmsContentMissing
        case (let attached?, let given?):
            guard attached == given else { throw .cmsContentMismatch }
            signedContent = attached
        case (let attached?, nil):
            signedContent = attached
        case (nil, let given?):
            signedContent = given
        }

        var signers: [CMSVerifiedSigner] = []
        for info in signerInfos {
            let certificate = try checkSignature(
                of: info, content: signedContent, extra: certificates)
            var chain: [Certificate] = []
            if let (validator, purpose, time) = trust {
                var withIntermediates = validator
                withIntermediates.intermediates += self.certificates + certificates
                let result = await withIntermediates.validate(certificate, for: purpose, at: time)
                guard case .valid(let validChain) = result else {
                    throw .cmsSignerNotTrusted(result.description)
                }
                chain = validChain
            }
            signers.append(
                CMSVerifiedSigner(
                    certificate: certificate, algorithm: info.algorithm, signingTime: info.signingTime,
                    chain: chain))
        }
        return CMSVerification(content: signedContent, signers: signers)
    }

    /// Checks one SignerInfo's signature; returns its certificate.
    private func checkSignature(
        of info: CMSSignerInfo, content: [UInt8], extra: [Certificate]
    ) throws(CardCredentialsError) -> Certificate {
        guard let certificate = (certificates + extra).first(where: info.names) else {
            throw .cmsSignerCertificateMissing
        }
        let signedBytes: [UInt8]
        if let attributes = info.signedAttributes {
            guard let contentType = info.contentTypeAttribute, let messageDigest = info.messageDigest
            else {
                throw .malformedCMS(
                    "the signed attributes lack content-type or message-digest (RFC 5652 §11)")
            }
            guard contentType == self.contentType else {
                throw .malformedCMS(
                    "the content-type attribute does not match the encapsulated content type")
            }
            guard info.algorithm.digest.hash(content) == messageDigest else { throw .cmsContentMismatch }
            if let hashes = info.signingCertificateHashes {
                var coder = DER.Serializer()
                do {
                    try coder.serialize(certificate)
                } catch {
                    throw .malformedCertificate("\(error)")
                }
                guard let first = hashes.first, first.algorithm.hash(coder.serializedBytes) == first.hash
                else {
                    throw .cmsSignatureInvalid
                }
            }
            signedBytes = attributes
        } else {
            signedBytes = content
        }
        guard
            certificate.publicKey.isValidSignature(
                info.signature, for: signedBytes,
                signatureAlgorithm: info.algorithm.certificateSignatureAlgorithm)
        else {
            throw .cmsSignatureInvalid
        }
        return certificate
    }
}
