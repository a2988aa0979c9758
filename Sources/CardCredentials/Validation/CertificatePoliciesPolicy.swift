import SwiftASN1
import X509

/// RFC 5280 §4.2.1.4 certificate policies, as a relying party with no policy set of its own (the initial policy
/// set is any-policy, no explicit policy required, RFC 5280 §6.1.1) processes them: the extension must be well
/// formed, and then it restricts nothing.
///
/// J-LIS marks the extension critical in the My Number card's certificates (signing `1.2.392.200149.8.5.1.1.20`,
/// authentication `…8.5.1.3.30`), and some private CAs do in their e-bidding certificates. swift-certificates'
/// `Verifier` refuses a certificate with a critical extension no policy says it handles, so without this policy a
/// real card's certificate would never validate.
struct CertificatePoliciesPolicy: VerifierPolicy {
    /// `id-ce-certificatePolicies`.
    static let extensionID: ASN1ObjectIdentifier = [2, 5, 29, 32]

    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [Self.extensionID]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        for certificate in chain {
            guard let policies = certificate.extensions.first(where: { $0.oid == Self.extensionID }) else { continue }
            if let problem = Self.problem(in: Array(policies.value)) {
                return .failsToMeetPolicy(
                    reason: "the certificate policies of \(certificate.subject) are malformed: \(problem)")
            }
        }
        return .meetsPolicy
    }

    /// Why `bytes` is not `SEQUENCE SIZE (1..MAX) OF PolicyInformation` (`SEQUENCE { policyIdentifier OID,
    /// policyQualifiers SEQUENCE OF … OPTIONAL }`), or nil when it is; the qualifiers' contents are not read.
    static func problem(in bytes: [UInt8]) -> String? {
        do {
            let root = try DER.parse(bytes)
            guard root.identifier == .sequence, case .constructed(let entries) = root.content else {
                return "not a SEQUENCE"
            }
            var count = 0
            for entry in entries {
                count += 1
                guard entry.identifier == .sequence, case .constructed(let fields) = entry.content else {
                    return "policy \(count) is not a SEQUENCE"
                }
                var iterator = fields.makeIterator()
                guard let first = iterator.next() else { return "policy \(count) is empty" }
                _ = try ASN1ObjectIdentifier(derEncoded: first)
                if let qualifiers = iterator.next(), qualifiers.identifier != .sequence {
                    return "the qualifiers of policy \(count) are not a SEQUENCE"
                }
                if iterator.next() != nil { return "policy \(count) has more than two fields" }
            }
            return count == 0 ? "no policy is listed" : nil
        } catch {
            return "\(error)"
        }
    }
}
