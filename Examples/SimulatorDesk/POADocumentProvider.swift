public import CertificateRenewal
import Foundation
import ToolSupport

/// The 電子委任状取扱事業者 of the example tools and server (`portal poa renew --document`,
/// `portal-server --poa-provider`): answers each request (取得依頼) with the power of attorney in a JSON file
/// (``PowerOfAttorneyFile/Document``: principal, agent, authority, validFrom, validUntil, reference; ISO 8601 times).
///
/// The file is read when the provider is made (a malformed file is refused at once) and again at each request, so
/// that a server answers from the operator's newest file without a restart. A real portal asks its provider's own
/// interface instead.
public struct POADocumentProvider: ElectronicPOAProvider {
    /// The provider's name, recorded with the power of attorney.
    public let name: String
    /// The file's path.
    public let path: String

    /// The provider answering with the document at `path`, named `name`, or else as the document names it
    /// (`provider`), or else 電子委任状取扱事業者.
    ///
    /// - Throws: When the file cannot be read, is not such a JSON document, or its times are not ISO 8601.
    public init(path: String, name: String? = nil) throws {
        let document = try Self.read(path)
        _ = try document.validity()
        self.path = path
        self.name = name ?? document.provider ?? "電子委任状取扱事業者"
    }

    static func read(_ path: String) throws -> PowerOfAttorneyFile.Document {
        let document: PowerOfAttorneyFile.Document
        do {
            document = try PowerOfAttorneyFile.Document.read(path)
        } catch {
            throw ToolFailure(
                "the 電子委任状取扱事業者's answer \(URL(fileURLWithPath: path).lastPathComponent) is not a power of "
                    + "attorney: \(PersonMessage.describe(error))")
        }
        return document
    }

    /// The power of attorney in the file as it is now; the request itself is not looked at.
    public func requestPowerOfAttorney(_ request: PowerOfAttorneyRequest) async throws -> IssuedPowerOfAttorney {
        let document = try Self.read(path)
        let (from, until) = try document.validity()
        return IssuedPowerOfAttorney(
            principal: document.principal, agent: document.agent, authority: document.authority, validFrom: from,
            validUntil: until, reference: document.reference)
    }
}
