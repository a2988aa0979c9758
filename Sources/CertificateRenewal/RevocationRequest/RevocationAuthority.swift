import CardCredentials
public import Foundation
import Registration
public import X509

/// The certification authority's desk that takes revocation requests (失効申込).
///
/// A conforming type sends the signed request to the CA and returns its receipt. It must be idempotent by
/// ``SignedRevocationRequest/requestID``: the flow sends the very same request again when an answer was lost, and
/// the desk then returns the receipt it gave the first time instead of recording a second request.
///
/// A desk checks the request with ``SignedRevocationRequest/verify(trusting:at:)`` (the CMS signature, and that the
/// signer is the certificate to revoke) before it revokes.
public protocol RevocationAuthority: Sendable {
    /// Submits a signed request and returns the receipt (受付).
    ///
    /// - Throws: ``LifecycleError/revocationRefused(reason:)`` when the CA refuses the request (bad signature, a
    ///   certificate it did not issue, one revoked already); any other error means the answer did not arrive, and
    ///   the flow lets the person send the same request again.
    func submit(_ request: SignedRevocationRequest) async throws -> RevocationReceipt
}

/// What a revocation request says, as the card signs it: a canonical JSON object (keys sorted, no whitespace,
/// UTF-8, strings and integers only).
public struct RevocationRequestContent: Sendable, Hashable, Codable {
    /// The format of the object (1).
    public var format: Int
    /// The request's identifier (a UUID, lower case): the desk's idempotency key.
    public var requestID: String
    /// The certificate's serial number, upper-case hex.
    public var serialNumber: String
    /// The certificate's issuer, as text.
    public var issuer: String
    /// The certificate's subject, as text.
    public var subject: String
    /// The SHA-256 fingerprint of the certificate's DER, lower-case hex.
    public var fingerprint: String
    /// The reason (``RevocationRequestReason`` raw value).
    public var reason: String
    /// The RFC 5280 reason code for the CRL.
    public var reasonCode: Int
    /// 申込者氏名.
    public var requesterName: String
    /// 部署名.
    public var department: String
    /// 電話番号.
    public var phone: String
    /// メールアドレス.
    public var mail: String
    /// 備考.
    public var note: String
    /// When the request was made, ISO 8601 in UTC (`2026-11-23T22:30:00Z`).
    public var requestedAt: String

    /// The reason as the enum, if the desk knows it.
    public var requestReason: RevocationRequestReason? { RevocationRequestReason(rawValue: reason) }

    /// The canonical JSON bytes the card signs.
    public func canonicalJSON() throws(LifecycleError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(self)) } catch {
            throw .revocationRefused(reason: "the request could not be encoded (\(error))")
        }
    }

    /// Reads a request from its canonical JSON, refusing bytes that are not exactly the canonical form.
    ///
    /// - Throws: ``LifecycleError/revocationRefused(reason:)``.
    public init(canonicalJSON bytes: [UInt8]) throws(LifecycleError) {
        let decoded: RevocationRequestContent
        do { decoded = try JSONDecoder().decode(RevocationRequestContent.self, from: Data(bytes)) } catch {
            throw .revocationRefused(reason: "the signed content is not a revocation request (\(error))")
        }
        guard try decoded.canonicalJSON() == bytes else {
            throw .revocationRefused(reason: "the signed content is not in canonical form")
        }
        guard decoded.format == 1 else {
            throw .revocationRefused(reason: "the request's format \(decoded.format) is not known")
        }
        self = decoded
    }

    init(
        requestID: String, certificate: Certificate, fingerprint: String, form: RevocationRequestForm, at date: Date
    ) {
        format = 1
        self.requestID = requestID
        let summary = CertificateSummary(certificate)
        serialNumber = summary.serialNumber
        issuer = summary.issuer
        subject = summary.subject
        self.fingerprint = fingerprint
        reason = form.reason.rawValue
        reasonCode = form.reason.crlReason.rawValue
        requesterName = form.requesterName
        department = form.department
        phone = form.phone
        mail = form.mail
        note = form.note
        requestedAt = Self.iso8601(date)
    }

    /// `YYYY-MM-DDThh:mm:ssZ` in UTC.
    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// A revocation request signed by the card: CMS SignedData (RFC 5652) with the canonical JSON inside, signed by
/// the card's key and carrying its certificate.
public struct SignedRevocationRequest: Sendable, Hashable {
    /// The request's identifier (the same as ``content``'s).
    public var requestID: String { content.requestID }
    /// What was signed.
    public var content: RevocationRequestContent
    /// The CMS SignedData, DER (a `.p7m` file: `openssl cms -verify -inform DER` reads it).
    public var cms: [UInt8]

    /// A signed request from its parts.
    public init(content: RevocationRequestContent, cms: [UInt8]) {
        self.content = content
        self.cms = cms
    }

    /// Reads a signed request from its CMS bytes alone (what a desk receives).
    ///
    /// - Throws: ``LifecycleError/revocationRefused(reason:)`` when the bytes are not SignedData with a request
    ///   inside.
    public init(cms bytes: [UInt8]) throws(LifecycleError) {
        let signed: CMSSignedData
        do { signed = try CMSSignedData(derEncoded: bytes) } catch {
            throw .revocationRefused(reason: "the request is not CMS SignedData (\(error))")
        }
        guard let inside = signed.content else {
            throw .revocationRefused(reason: "the SignedData carries no content")
        }
        self.init(content: try RevocationRequestContent(canonicalJSON: inside), cms: bytes)
    }

    /// The desk's check: the CMS signature is valid, the signer's certificate chains to `trustAnchors` (with the
    /// SignedData's certificates as intermediates) and is valid at `date`, and the signer is the very certificate
    /// the request asks to revoke (serial, issuer and fingerprint).
    ///
    /// - Returns: The signer's certificate (the one to revoke).
    /// - Throws: ``LifecycleError/revocationRefused(reason:)``.
    public func verify(trusting trustAnchors: [Certificate], at date: Date) async throws(LifecycleError)
        -> Certificate
    {
        let signed: CMSSignedData
        let verification: CMSVerification
        do {
            signed = try CMSSignedData(derEncoded: cms)
            verification = try await signed.verify(
                validator: CertificateValidator(trustAnchors: trustAnchors, revocation: .none), purpose: .signing,
                at: date)
        } catch {
            throw .revocationRefused(reason: "the request's signature was not accepted: \(error)")
        }
        guard verification.signers.count == 1, let signer = verification.signers.first else {
            throw .revocationRefused(reason: "the request must have exactly one signer")
        }
        guard try RevocationRequestContent(canonicalJSON: verification.content) == content else {
            throw .revocationRefused(reason: "the signed content differs from the request")
        }
        let summary = CertificateSummary(signer.certificate)
        let fingerprint: String
        do { fingerprint = try CertificateBinding.fingerprint(of: signer.certificate) } catch {
            throw .revocationRefused(reason: "the signer's certificate could not be encoded")
        }
        guard summary.serialNumber == content.serialNumber, summary.issuer == content.issuer,
            fingerprint == content.fingerprint
        else {
            throw .revocationRefused(
                reason: "the request was signed by certificate \(summary.serialNumber), not by the certificate to "
                    + "revoke (\(content.serialNumber))")
        }
        return signer.certificate
    }
}

/// The CA's receipt (受付) of a revocation request.
public struct RevocationReceipt: Sendable, Hashable, Codable {
    /// 受付番号: the number the CA gave the request.
    public var receiptNumber: String
    /// The request's identifier.
    public var requestID: String
    /// The serial number of the certificate (upper-case hex).
    public var serialNumber: String
    /// When the CA accepted the request.
    public var acceptedAt: Date

    /// A receipt.
    public init(receiptNumber: String, requestID: String, serialNumber: String, acceptedAt: Date) {
        self.receiptNumber = receiptNumber
        self.requestID = requestID
        self.serialNumber = serialNumber
        self.acceptedAt = acceptedAt
    }
}
