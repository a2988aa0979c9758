public import Foundation
public import Registration

/// A power of attorney (電子委任状) as a JSON file, the way a 電子委任状取扱事業者 hands it over to the example tools
/// and server (`portal agent add --power-of-attorney`, `portal poa renew --document`, `portal-server --poa-provider`):
///
/// ```json
/// {"principal": "株式会社試験建設 代表取締役 入札 太郎", "agent": "試験 花子", "authority": ["入札及び見積に関する件"],
///  "validFrom": "2026-04-01T00:00:00+09:00", "validUntil": "2027-03-31T23:59:59+09:00",
///  "provider": "テスト委任状サービス", "reference": "POA-2026-0001"}
/// ```
public enum PowerOfAttorneyFile {
    /// The JSON document (ISO 8601 times). `provider` is needed when the document is registered with an agent;
    /// a provider answering a renewal may be named elsewhere instead (`portal poa renew --provider`).
    public struct Document: Decodable, Sendable {
        /// 委任者.
        public var principal: String
        /// 受任者.
        public var agent: String
        /// 代理権, one item per line.
        public var authority: [String]
        /// The start of 有効期間, ISO 8601.
        public var validFrom: String
        /// The end of 有効期間, ISO 8601.
        public var validUntil: String
        /// 電子委任状取扱事業者, when the document names it.
        public var provider: String?
        /// The provider's reference of the document.
        public var reference: String

        /// The document in the file at `path`.
        ///
        /// - Throws: When the file cannot be read or is not such a JSON document.
        public static func read(_ path: String) throws -> Document {
            try JSONDecoder().decode(Document.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }

        /// 有効期間 as dates.
        ///
        /// - Throws: ``RegistrationError/invalidField(field:reason:)`` when a time is not ISO 8601.
        public func validity() throws -> (from: Date, until: Date) {
            let dates = ISO8601DateFormatter()
            guard let from = dates.date(from: validFrom), let until = dates.date(from: validUntil) else {
                throw RegistrationError.invalidField(
                    field: "有効期間", reason: "use ISO 8601 times, as 2026-04-01T00:00:00+09:00")
            }
            return (from, until)
        }
    }

    /// The power of attorney in the file at `path`, for a new agent (`portal agent add`); the document must name its
    /// provider.
    ///
    /// - Throws: When the file cannot be read, is not such a document, or has no `provider`.
    public static func read(_ path: String) throws -> PowerOfAttorney {
        let document = try Document.read(path)
        guard let provider = document.provider else {
            throw RegistrationError.invalidField(field: "電子委任状取扱事業者", reason: "\(path) has no \"provider\"")
        }
        let (from, until) = try document.validity()
        return try PowerOfAttorney(
            agentID: UserID(rawValue: "new"), principal: document.principal, agent: document.agent,
            authority: document.authority, validFrom: from, validUntil: until, provider: provider,
            reference: document.reference)
    }
}
