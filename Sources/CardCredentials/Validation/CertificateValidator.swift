public import Foundation
import SwiftASN1
@_spi(DisableValidityCheck) public import X509

/// What a certificate is to be used for; each asks for its own key usage bits.
public enum CertificatePurpose: Sendable, Hashable, CustomStringConvertible {
    /// Signing documents and bids: key usage nonRepudiation or digitalSignature (a JPKI signing certificate has
    /// both).
    case signing
    /// Logging in (certificate login, the JPKI user-authentication certificate): key usage digitalSignature.
    case authentication
    /// Any use: key usage is not checked.
    case any

    /// `"signing"`, `"authentication"` or `"any use"`.
    public var description: String {
        switch self {
        case .signing: "signing"
        case .authentication: "authentication"
        case .any: "any use"
        }
    }
}

/// How revocation lists are used.
public enum RevocationCheck: Sendable, Hashable {
    /// Every certificate below a trust anchor must be covered by a CRL from its issuer; without one the result
    /// is ``ValidationResult/crlUnavailable(issuer:)``.
    case required
    /// Certificates whose issuer has a CRL among the given ones are checked; others pass.
    case whenAvailable
    /// No revocation check.
    case none
}

/// The outcome of ``CertificateValidator/validate(_:for:at:)``: valid, or the one rule that failed.
public enum ValidationResult: Sendable, Hashable, CustomStringConvertible {
    /// Every rule passed; `chain` runs from the leaf to its trust anchor.
    case valid(chain: [Certificate])
    /// No chain leads from the certificate to a configured trust anchor (or the chain breaks a path rule).
    case untrustedChain(reason: String)
    /// The certificate named by `subject` is not valid yet at the validation time.
    case notYetValid(notBefore: Date, subject: String)
    /// The certificate named by `subject` expired before the validation time.
    case expired(notAfter: Date, subject: String)
    /// The leaf's key usage does not allow the purpose.
    case keyUsageMismatch(purpose: CertificatePurpose, keyUsage: [String])
    /// A CRL lists the certificate named by `subject`.
    case revoked(reason: RevocationReason?, date: Date, subject: String)
    /// The CRL for `issuer` is past its nextUpdate: a fresh one is needed before anything can be said.
    case crlStale(nextUpdate: Date, issuer: String)
    /// The CRL for `issuer` is not signed by that issuer's key.
    case crlSignatureInvalid(issuer: String)
    /// Revocation is required, but no CRL from `issuer` was given.
    case crlUnavailable(issuer: String)
    /// The only CRLs from `issuer` carry critical extensions this library does not support (a delta CRL, a
    /// partitioned or indirect list), so they cannot decide revocation.
    case crlUnsupported(issuer: String, extensions: [String])

    /// Whether every rule passed.
    public var isValid: Bool {
        if case .valid = self { return true }
        return false
    }

    /// A sentence for people: which rule failed and what to do.
    public var description: String {
        switch self {
        case .valid(let chain):
            return "The certificate is valid (a chain of \(chain.count) certificates to a trusted root)."
        case .untrustedChain(let reason):
            return
                "The certificate does not chain to a trusted root\(reason.isEmpty ? "" : " (\(reason))"). Check that it "
                + "was issued by a certification authority this service accepts."
        case .notYetValid(let notBefore, let subject):
            return
                "The certificate \(subject) is not valid until \(CertificateSummary.japanDate(notBefore)). "
                + "Use it from that date, or check the computer's clock."
        case .expired(let notAfter, let subject):
            return
                "The certificate \(subject) expired on \(CertificateSummary.japanDate(notAfter)) (有効期限切れ). "
                + "Renew the certificate or use a new card."
        case .keyUsageMismatch(let purpose, let keyUsage):
            let bits = keyUsage.isEmpty ? "none" : keyUsage.joined(separator: ", ")
            return
                "The certificate's key usage (\(bits)) does not allow \(purpose). Choose the certificate meant "
                + "for \(purpose)."
        case .revoked(let reason, let date, let subject):
            let why = reason.map { " (\($0))" } ?? ""
            return
                "The certificate \(subject) was revoked (失効) on \(CertificateSummary.japanDate(date))\(why). "
                + "It cannot be used; obtain a new certificate."
        case .crlStale(let nextUpdate, let issuer):
            return
                "The revocation list of \(issuer) was due for renewal on "
                + "\(CertificateSummary.japanDate(nextUpdate)). Download the current revocation list and check again."
        case .crlSignatureInvalid(let issuer):
            return
                "The revocation list for \(issuer) is not signed by that issuer. Download it again from the "
                + "issuer's official location."
        case .crlUnavailable(let issuer):
            return "No revocation list from \(issuer) was given. Download it and check again."
        case .crlUnsupported(let issuer, let extensions):
            return
                "The revocation list from \(issuer) has critical extensions this library does not support "
                + "(\(extensions.joined(separator: ", "))). Use the issuer's complete (base) revocation list."
        }
    }
}

/// Validates a certificate for a purpose at a time: chain to trust anchors, validity, key usage, revocation.
///
/// Chain building and the RFC 5280 path rules (basic constraints, name constraints, signatures) are
/// swift-certificates' `Verifier`; this type adds what that library leaves out — validity checked apart so the
/// result names the expired certificate, key usage for the purpose, and CRLs (which swift-certificates 1.21
/// cannot read) — and reports the first rule that failed.
///
/// A critical extension must be one the checks act on: basic constraints, name constraints, key usage, or
/// certificate policies. The policies are processed as RFC 5280 §6.1 has it for a relying party with no policy
/// set of its own: they must be well formed, then they restrict nothing. (J-LIS marks them critical in every My
/// Number card certificate.) Any other critical extension makes the certificate untrusted.
///
/// ```swift
/// let validator = CertificateValidator(
///     trustAnchors: JPKITrustAnchors.signing, crls: [crl], revocation: .required)
/// switch await validator.validate(certificate, for: .signing) {
/// case .valid: break
/// case let failure: print(failure)  // e.g. "The certificate … was revoked (失効) …"
/// }
/// ```
public struct CertificateValidator: Sendable {
    /// The roots trusted to anchor a chain.
    public var trustAnchors: [Certificate]
    /// Intermediate CA certificates that may complete a chain.
    public var intermediates: [Certificate]
    /// The revocation lists to consult.
    public var crls: [CertificateRevocationList]
    /// How revocation lists are used.
    public var revocation: RevocationCheck

    /// A validator.
    ///
    /// - Parameters:
    ///   - trustAnchors: The roots to trust (``JPKITrustAnchors/all`` for real My Number cards).
    ///   - intermediates: Intermediate CA certificates.
    ///   - crls: Revocation lists.
    ///   - revocation: How the lists are used.
    public init(
        trustAnchors: [Certificate], intermediates: [Certificate] = [], crls: [CertificateRevocationList] = [],
        revocation: RevocationCheck = .whenAvailable
    ) {
        self.trustAnchors = trustAnchors
        self.intermediates = intermediates
        self.crls = crls
        self.revocation = revocation
    }

    /// Validates `certificate` for `purpose` at `time`.
    ///
    /// Rules, in order (the first that fails is the result): a chain to a trust anchor; every certificate of
    /// the chain valid at `time`; the leaf's key usage; for each certificate below the anchor, the CRL of its
    /// issuer — signed by that issuer, not stale at `time`, and not listing the certificate.
    public func validate(
        _ certificate: Certificate, for purpose: CertificatePurpose, at time: Date = Date()
    ) async -> ValidationResult {
        if let oid = Self.unhandledCriticalExtension(of: certificate) {
            return .untrustedChain(reason: "it has a critical extension \(oid) that this library does not check")
        }
        var verifier = Verifier(rootCertificates: CertificateStore(trustAnchors)) {
            RFC5280Policy.withValidityCheckDisabled()
            CertificatePoliciesPolicy()
        }
        let chain: [Certificate]
        switch await verifier.validate(leaf: certificate, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let validated):
            chain = Array(validated)
        case .couldNotValidate(let failures):
            // With no policy failure, no chain was found at all: the sentence says so without a reason. A policy's
            // reason names certificates by their Swift description (`Certificate(version: X509v3, …)`): each is
            // named by its subject instead.
            let reason =
                failures.first.map { failure in
                    failure.chain.reduce("\(failure.policyFailureReason)") { text, link in
                        text.replacingOccurrences(
                            of: link.description, with: "“\(DirectoryString.display(link.subject))”")
                    }
                } ?? ""
            return .untrustedChain(reason: reason)
        }
        for link in chain {
            if time < link.notValidBefore {
                return .notYetValid(notBefore: link.notValidBefore, subject: DirectoryString.display(link.subject))
            }
            if time > link.notValidAfter {
                return .expired(notAfter: link.notValidAfter, subject: DirectoryString.display(link.subject))
            }
        }
        if let mismatch = Self.keyUsageFailure(certificate, purpose: purpose) { return mismatch }
        guard revocation != .none else { return .valid(chain: chain) }
        for (position, link) in chain.enumerated() where position + 1 < chain.count {
            if let failure = revocationFailure(of: link, issuer: chain[position + 1], at: time) { return failure }
        }
        return .valid(chain: chain)
    }

    private func revocationFailure(of certificate: Certificate, issuer: Certificate, at time: Date)
        -> ValidationResult?
    {
        let issuerName = DirectoryString.display(issuer.subject)
        let candidates = crls.filter { $0.issuer == issuer.subject }
        guard !candidates.isEmpty else {
            return revocation == .required ? .crlUnavailable(issuer: issuerName) : nil
        }
        // Only lists the issuer really signed count; of those, the newest decides.
        let signed = candidates.filter { $0.isSignatureValid(issuer: issuer) }
        guard !signed.isEmpty else { return .crlSignatureInvalid(issuer: issuerName) }
        let usable = signed.filter { $0.unsupportedCriticalExtensions.isEmpty }
        guard let crl = usable.max(by: { $0.thisUpdate < $1.thisUpdate }) else {
            return .crlUnsupported(issuer: issuerName, extensions: signed[0].unsupportedCriticalExtensions)
        }
        if crl.isStale(at: time), let nextUpdate = crl.nextUpdate {
            return .crlStale(nextUpdate: nextUpdate, issuer: issuerName)
        }
        if let entry = crl.entry(for: certificate.serialNumber), entry.revocationDate <= time {
            return .revoked(
                reason: entry.reason, date: entry.revocationDate, subject: DirectoryString.display(certificate.subject))
        }
        return nil
    }

    static func keyUsageFailure(_ certificate: Certificate, purpose: CertificatePurpose) -> ValidationResult? {
        guard purpose != .any else { return nil }
        let usage: KeyUsage?
        do {
            usage = try certificate.extensions.keyUsage
        } catch {
            return .keyUsageMismatch(purpose: purpose, keyUsage: ["unreadable"])
        }
        // RFC 5280 §4.2.1.3: without the extension, the key may serve any purpose.
        guard let usage else { return nil }
        let allowed =
            switch purpose {
            case .signing: usage.nonRepudiation || usage.digitalSignature
            case .authentication: usage.digitalSignature
            case .any: true
            }
        guard !allowed else { return nil }
        var summary = CertificateSummary(certificate)
        summary.keyUsage = usage
        return .keyUsageMismatch(purpose: purpose, keyUsage: summary.keyUsageNames)
    }

    static func unhandledCriticalExtension(of certificate: Certificate) -> String? {
        let handled: [ASN1ObjectIdentifier] = [
            .X509ExtensionID.basicConstraints, .X509ExtensionID.nameConstraints, .X509ExtensionID.keyUsage,
            CertificatePoliciesPolicy.extensionID,
        ]
        return certificate.extensions.first { $0.critical && !handled.contains($0.oid) }?.oid.description
    }
}
