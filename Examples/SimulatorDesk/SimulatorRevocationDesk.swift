import CardCredentials
public import CardSimulator
public import CertificateRenewal
import Foundation
import X509

// The simulator CA's revocation desk, shared by the example tools (`portal revoke-request`) and the
// example server (`portal-server --revocation-ca`). A real portal sends to its CA's own interface instead.

/// The simulator CA's revocation desk: verifies the signed request (the signer must be the certificate to
/// revoke), revokes it at the test CA, publishes a new CRL, and keeps each receipt in DIR/revocation-requests by
/// request ID, so the same request sent again, even from another process, gets the same receipt.
public actor SimulatorRevocationDesk: RevocationAuthority {
    /// The test CA that revokes.
    public let authority: TestCertificateAuthority

    /// The desk of `authority`.
    public init(authority: TestCertificateAuthority) { self.authority = authority }

    /// Verifies, revokes and answers with the receipt; the same request again gets the same receipt.
    public func submit(_ request: SignedRevocationRequest) async throws -> RevocationReceipt {
        let received = try SignedRevocationRequest(cms: request.cms)
        let folder = authority.directory.appending(path: "revocation-requests")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let id = received.requestID.filter { $0.isHexDigit || $0 == "-" }
        let receiptURL = folder.appending(path: "\(id).json")
        let requestURL = folder.appending(path: "\(id).p7m")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        if let data = FileManager.default.contents(atPath: receiptURL.path) {
            guard FileManager.default.contents(atPath: requestURL.path) == Data(request.cms) else {
                throw LifecycleError.revocationRefused(reason: "request \(id) came before with other content")
            }
            return try decoder.decode(RevocationReceipt.self, from: data)
        }
        let now = Date()
        let certificate = try await received.verify(trusting: [authority.rootCertificate(.eBidding)], at: now)
        let serial = CertificateSummary(certificate).serialNumber
        if try authority.issuedCertificates().contains(where: {
            $0.revocation != nil && $0.serialNumber.uppercased().drop { $0 == "0" } == serial.drop { $0 == "0" }
        }) {
            throw LifecycleError.revocationRefused(reason: "certificate \(serial) is revoked already")
        }
        try authority.revoke(
            certificate.serialNumber, reason: RevocationReason(rawValue: received.content.reasonCode) ?? .unspecified,
            at: now)
        _ = try authority.publishCRL(for: .eBidding, thisUpdate: now)
        let count =
            (try? FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.count)
            ?? 0
        let receipt = RevocationReceipt(
            receiptNumber: String(format: "R%08d", count + 1), requestID: received.requestID, serialNumber: serial,
            acceptedAt: now)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Data(request.cms).write(to: requestURL)
        try encoder.encode(receipt).write(to: receiptURL)
        return receipt
    }
}
