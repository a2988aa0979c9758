public import CertificateRenewal
import Foundation
import ToolSupport
public import X509

/// The JPKI linkage of the example tools and server: a JSON file the operator receives from JPKI (公的個人認証サービス),
/// standing in for the J-LIS service. Serial numbers are upper-case hex; certificates PEM:
///
/// ```json
/// {"successors": [{"serial": "0A1B…", "cause": "superseded", "certificate": "-----BEGIN CERTIFICATE-----…"}],
///  "pairs": [{"authentication": "0C2D…", "signingCertificate": "-----BEGIN CERTIFICATE-----…"}]}
/// ```
///
/// The file is read when the linkage is made (a malformed file is refused at once) and again at each question,
/// so that a server keeps answering from the operator's newest file without a restart.
public struct JPKILinkageFile: JPKILinkageService {
    struct Successor: Decodable {
        var serial: String
        var cause: String
        var certificate: String
    }
    struct Pair: Decodable {
        var authentication: String
        var signingCertificate: String
    }
    struct Document: Decodable {
        var successors: [Successor]?
        var pairs: [Pair]?
    }

    /// The file's path.
    public let path: String

    /// The linkage of the file at `path`.
    ///
    /// - Throws: When the file cannot be read or is not such a JSON document.
    public init(path: String) throws {
        self.path = path
        _ = try document()
    }

    func document() throws -> Document {
        try JSONDecoder().decode(Document.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func hex(_ serial: Certificate.SerialNumber) -> String {
        serial.bytes.map { String(format: "%02X", $0) }.joined()
    }

    public func successor(ofSigningCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)
        async throws -> JPKILinkage?
    {
        let serial = Self.hex(serialNumber)
        guard let entry = try document().successors?.first(where: { $0.serial.uppercased() == serial }) else {
            return nil
        }
        guard let cause = JPKIRevocationCause(rawValue: entry.cause) else {
            throw ToolFailure("\(path): the cause \(entry.cause) is neither superseded nor affiliationChanged")
        }
        let certificate = try PEMText.certificates(in: entry.certificate, source: path)[0]
        return JPKILinkage(cause: cause, newCertificate: certificate)
    }

    public func signingCertificate(
        pairedWithAuthenticationCertificate serialNumber: Certificate.SerialNumber, issuer: DistinguishedName
    ) async throws -> (serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)? {
        let serial = Self.hex(serialNumber)
        guard let pair = try document().pairs?.first(where: { $0.authentication.uppercased() == serial }) else {
            return nil
        }
        let certificate = try PEMText.certificates(in: pair.signingCertificate, source: path)[0]
        return (certificate.serialNumber, certificate.issuer)
    }
}
