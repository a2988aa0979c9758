public import Foundation
import SwiftASN1
public import X509

/// Evidence of a card step: the certificate (and the CA certificates the client has), and a signature made by
/// its key over ``EvidenceChallenge/signedBytes(origin:certificate:)`` for the portal's origin. A portal checks
/// it instead of reading the card; the PIN never leaves the person's computer.
///
/// The JSON form (the names of the signature algorithms are JOSE's):
///
/// ```json
/// {"format": "procurement-identity-evidence:1", "origin": "https://portal.example.jp",
///  "challengeID": "9f…", "certificate": "MIIE…", "chain": ["MIIE…"], "algorithm": "RS256",
///  "signature": "Hc3…"}
/// ```
public struct CardEvidence: Sendable, Hashable {
    /// The origin the signature was made for, as the signing program says (the portal compares it with its own
    /// before anything else, to name a foreign origin; the signature binds it either way).
    public var origin: PortalOrigin
    /// The challenge answered.
    public var challengeID: String
    /// The certificate whose key signed.
    public var certificate: Certificate
    /// CA certificates the client has, issuer first (may be empty).
    public var chain: [Certificate]
    /// The signature algorithm.
    public var algorithm: SigningAlgorithm
    /// The signature (RSA: as long as the modulus; ECDSA: DER).
    public var signature: [UInt8]

    /// The format's name and version, the JSON form's `format`.
    public static let format = "procurement-identity-evidence:1"
    /// At most this many CA certificates are accepted in ``chain``.
    public static let maximumChainLength = 4

    /// Evidence from its parts.
    public init(
        origin: PortalOrigin, challengeID: String, certificate: Certificate, chain: [Certificate] = [],
        algorithm: SigningAlgorithm, signature: [UInt8]
    ) {
        self.origin = origin
        self.challengeID = challengeID
        self.certificate = certificate
        self.chain = chain
        self.algorithm = algorithm
        self.signature = signature
    }

    /// Checks the evidence against the challenge it answers, for a portal at `origin` and the step `purpose`,
    /// in this order: the challenge's identifier, the origin (``EvidenceError/Code-swift.struct/foreignOrigin``),
    /// the flow and step (``EvidenceError/Code-swift.struct/wrongStep``), the expiry, the signature, and the
    /// certificate (chain to the validator's trust anchors, validity at `date`, revocation, and key usage for
    /// `keyPurpose`).
    ///
    /// Whether the challenge was issued and is used once is the portal's store's business (`EvidenceDesk` in
    /// Registration takes it out before calling this).
    ///
    /// - Parameters:
    ///   - challenge: The challenge as the portal issued it.
    ///   - origin: The portal's own origin, from its configuration — never from the request.
    ///   - purpose: The flow and step the portal is at.
    ///   - date: Now.
    ///   - validator: The trust anchors, CRLs and policies.
    ///   - keyPurpose: The key usage the certificate must allow; `.authentication` (digitalSignature) by default.
    public func verify(
        _ challenge: EvidenceChallenge, origin: PortalOrigin, purpose: EvidencePurpose, at date: Date,
        validator: CertificateValidator, keyPurpose: CertificatePurpose = .authentication
    ) async throws(EvidenceError) -> VerifiedEvidence {
        let possession = try verifyPossession(challenge, origin: origin, purpose: purpose, at: date)
        var validator = validator
        validator.intermediates += chain
        let result = await validator.validate(certificate, for: keyPurpose, at: date)
        guard result.isValid else {
            throw EvidenceError(.certificateUntrusted, "the certificate is not accepted: \(result.description)")
        }
        return VerifiedEvidence(
            certificate: certificate, chain: chain, fingerprint: possession.fingerprint, purpose: purpose,
            verifiedAt: date)
    }

    /// Checks everything ``verify(_:origin:purpose:at:validator:keyPurpose:)`` checks except the certificate
    /// itself: the challenge's identifier, the origin, the flow and step, the expiry and the signature. The
    /// result proves that the holder of the certificate's key answered this challenge for this portal and step;
    /// it says nothing about the certificate.
    ///
    /// For a flow whose rules judge the certificate in their own words: a certificate update accepts an expired
    /// registered certificate, and a renewal names an expired or revoked new card as such. Such a flow must check
    /// the certificate itself (chain, validity, revocation) before it trusts anything in it.
    ///
    /// - Parameters:
    ///   - challenge: The challenge as the portal issued it.
    ///   - origin: The portal's own origin, from its configuration — never from the request.
    ///   - purpose: The flow and step the portal is at.
    ///   - date: Now.
    public func verifyPossession(
        _ challenge: EvidenceChallenge, origin: PortalOrigin, purpose: EvidencePurpose, at date: Date
    ) throws(EvidenceError) -> EvidencePossession {
        guard challengeID == challenge.id else {
            throw EvidenceError(
                .malformedEvidence, "the evidence answers another challenge than the one it was checked against")
        }
        guard self.origin == origin else {
            throw EvidenceError(
                .foreignOrigin,
                "the card signed for \(self.origin), not for this portal (\(origin)); a page of another site asked "
                    + "for the signature, and it is refused")
        }
        guard challenge.purpose == purpose else {
            throw EvidenceError(
                .wrongStep,
                "the evidence was made for \(challenge.purpose), but the flow is at \(purpose); ask for a challenge "
                    + "for this step")
        }
        guard date <= challenge.expiresAt else {
            throw EvidenceError(
                .challengeExpired,
                "the challenge expired at \(EvidenceChallenge.timestamp(challenge.expiresAt)); ask for a new one "
                    + "and sign again")
        }
        let fingerprint: String
        do { fingerprint = LowerHex.string(DigestAlgorithm.sha256.hash(try certificate.derBytes())) } catch {
            throw EvidenceError(.malformedEvidence, "the certificate could not be encoded: \(error)")
        }
        let bytes = challenge.signedBytes(origin: origin, certificateFingerprint: fingerprint)
        guard
            certificate.publicKey.isValidSignature(
                signature, for: bytes, signatureAlgorithm: algorithm.certificateSignatureAlgorithm)
        else {
            throw EvidenceError(
                .signatureInvalid,
                "the signature was not made by the certificate's key over this challenge for \(origin)")
        }
        return EvidencePossession(
            certificate: certificate, chain: chain, fingerprint: fingerprint, purpose: purpose, verifiedAt: date)
    }
}

/// Evidence that passed ``CardEvidence/verify(_:origin:purpose:at:validator:keyPurpose:)``: whose key signed,
/// for which step, and when it was checked.
public struct VerifiedEvidence: Sendable, Hashable {
    /// The certificate whose key signed.
    public let certificate: Certificate
    /// The CA certificates the client sent.
    public let chain: [Certificate]
    /// The SHA-256 fingerprint of the certificate (lower-case hexadecimal), as registrations name certificates.
    public let fingerprint: String
    /// The flow and step.
    public let purpose: EvidencePurpose
    /// When it was checked.
    public let verifiedAt: Date
}

/// Evidence whose signature passed ``CardEvidence/verifyPossession(_:origin:purpose:at:)``: the holder of the
/// certificate's key answered the challenge for the portal and step. The certificate itself was **not** checked
/// (chain, validity, revocation, key usage): the flow that asked for this must check it before trusting it.
public struct EvidencePossession: Sendable, Hashable {
    /// The certificate whose key signed (not checked).
    public let certificate: Certificate
    /// The CA certificates the client sent.
    public let chain: [Certificate]
    /// The SHA-256 fingerprint of the certificate (lower-case hexadecimal), as registrations name certificates.
    public let fingerprint: String
    /// The flow and step.
    public let purpose: EvidencePurpose
    /// When the signature was checked.
    public let verifiedAt: Date
}

extension CardEvidence: Codable {
    private enum Keys: String, CodingKey { case format, origin, challengeID, certificate, chain, algorithm, signature }

    /// The JOSE name of an algorithm (`RS256`, `ES384`).
    static func joseName(_ algorithm: SigningAlgorithm) -> String {
        let family = algorithm.keyType == .ecdsa ? "ES" : "RS"
        switch algorithm.digest {
        case .sha256: return family + "256"
        case .sha384: return family + "384"
        case .sha512: return family + "512"
        }
    }

    /// Reads the JSON form of the type's documentation; refuses another format, an unknown algorithm, a chain of
    /// more than ``maximumChainLength`` certificates, and certificates or signatures that do not decode.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        func corrupt(_ key: Keys, _ text: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: container, debugDescription: text)
        }
        let format = try container.decode(String.self, forKey: .format)
        guard format == Self.format else { throw corrupt(.format, "the format is not \(Self.format)") }
        let name = try container.decode(String.self, forKey: .algorithm)
        let algorithms: [SigningAlgorithm] =
            SigningAlgorithm.rsaAlgorithms + [
                .ecdsaSHA256, .ecdsaSHA384, SigningAlgorithm(keyType: .ecdsa, digest: .sha512),
            ]
        guard let algorithm = algorithms.first(where: { Self.joseName($0) == name }) else {
            throw corrupt(.algorithm, "the algorithm is not one of RS256, RS384, RS512, ES256, ES384, ES512")
        }
        func certificate(_ text: String, _ key: Keys) throws -> Certificate {
            guard text.utf8.count <= 16384, let der = Data(base64Encoded: text) else {
                throw corrupt(key, "a certificate is not base64 DER of at most 12 KiB")
            }
            do { return try Certificate(derEncoded: [UInt8](der)) } catch {
                throw corrupt(key, "a certificate does not decode as X.509")
            }
        }
        let chainTexts = try container.decodeIfPresent([String].self, forKey: .chain) ?? []
        guard chainTexts.count <= Self.maximumChainLength else {
            throw corrupt(.chain, "the chain has more than \(Self.maximumChainLength) certificates")
        }
        let signatureText = try container.decode(String.self, forKey: .signature)
        guard signatureText.utf8.count <= 1400, let signature = Data(base64Encoded: signatureText), !signature.isEmpty
        else { throw corrupt(.signature, "the signature is not base64 of at most 1 KiB") }
        let challengeID = try container.decode(String.self, forKey: .challengeID)
        guard challengeID.utf8.count <= 64 else { throw corrupt(.challengeID, "the challenge identifier is too long") }
        self.init(
            origin: try container.decode(PortalOrigin.self, forKey: .origin), challengeID: challengeID,
            certificate: try certificate(try container.decode(String.self, forKey: .certificate), .certificate),
            chain: try chainTexts.map { try certificate($0, .chain) }, algorithm: algorithm,
            signature: [UInt8](signature))
    }

    /// Writes the JSON form of the type's documentation.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(Self.format, forKey: .format)
        try container.encode(origin, forKey: .origin)
        try container.encode(challengeID, forKey: .challengeID)
        try container.encode(Data(try certificate.derBytes()).base64EncodedString(), forKey: .certificate)
        try container.encode(try chain.map { Data(try $0.derBytes()).base64EncodedString() }, forKey: .chain)
        try container.encode(Self.joseName(algorithm), forKey: .algorithm)
        try container.encode(Data(signature).base64EncodedString(), forKey: .signature)
    }
}
