public import Foundation

// The server's answers as the client reads them (the schemas of the server's openapi.yaml). Each is decoded
// leniently: a key the client does not know is ignored, so a newer server's additions break no older client.

/// A session: who logged in, with which certificate, until when (`POST /api/v1/login`, `GET /api/v1/session`).
public struct PortalSession: Sendable, Hashable, Codable {
    /// The user (`U-…`).
    public var userID: String
    /// The business (`B-…`).
    public var businessID: String
    /// The certificate binding that logged in.
    public var bindingID: String
    /// `representative` (代表者) or `agent` (代理人).
    public var role: String
    /// When the session ends unless it is used.
    public var expiresAt: Date
}

/// A business's registration, the document `portal show --json` prints (`GET /api/v1/registration`).
public struct PortalRegistration: Sendable, Hashable, Codable {
    /// 事業者基本情報.
    public struct Business: Sendable, Hashable, Codable {
        /// 商号又は名称.
        public var name: String
        /// 郵便番号.
        public var postalCode: String
        /// 所在地.
        public var address: String
        /// 代表者役職名.
        public var representativeTitle: String
        /// 代表者氏名.
        public var representativeName: String
        /// 法人番号, when registered.
        public var corporateNumber: String?
        /// 電話番号.
        public var phone: String
    }

    /// A user (代表者 or 代理人) with the certificates bound to them.
    public struct User: Sendable, Hashable, Codable {
        /// The user (`U-…`).
        public var id: String
        /// `representative` or `agent`.
        public var role: String
        /// `active` or `deleted`.
        public var status: String
        /// 役職名.
        public var title: String
        /// 氏名.
        public var name: String
        /// 郵便番号.
        public var postalCode: String
        /// 住所.
        public var address: String
        /// 電話番号.
        public var phone: String
        /// FAX番号.
        public var fax: String?
        /// メールアドレス.
        public var mail: String
        /// The certificates bound to the user, in every status.
        public var certificates: [Certificate]
    }

    /// A certificate binding (電子証明書情報).
    public struct Certificate: Sendable, Hashable, Codable {
        /// The binding (`C-…`).
        public var id: String
        /// `icCard`, `fileCertificate` or `myNumberCard`.
        public var kind: String
        /// `active`, `superseded`, `revoked`, `expired` or `removed`.
        public var status: String
        /// The certificate's serial number.
        public var serialNumber: String
        /// The issuer's name.
        public var issuer: String
        /// The subject's name.
        public var subject: String
        /// Start of validity.
        public var notValidBefore: Date
        /// End of validity.
        public var notValidAfter: Date
        /// SHA-256 of the certificate, lower-case hexadecimal.
        public var fingerprint: String
    }

    /// A committed change.
    public struct HistoryEntry: Sendable, Hashable, Codable {
        /// The change (受付番号).
        public var id: String
        /// The registration's version after it.
        public var version: Int
        /// When it was committed.
        public var committedAt: Date
        /// What changed.
        public var summary: String
        /// Who changed it, when a user did.
        public var actor: String?
    }

    /// The business (`B-…`).
    public var id: String
    /// The version; a change names it (`If-Match`).
    public var version: Int
    /// When the business was registered.
    public var registeredAt: Date
    /// 事業者基本情報.
    public var business: Business
    /// 資格情報, as `services-A`.
    public var qualifications: [String]
    /// The users.
    public var users: [User]
    /// The committed changes.
    public var history: [HistoryEntry]

    /// The certificate binding `id`, whoever holds it.
    public func certificate(_ id: String) -> Certificate? {
        users.lazy.flatMap(\.certificates).first { $0.id == id }
    }

    /// The user `id`.
    public func user(_ id: String) -> User? {
        users.first { $0.id == id }
    }
}
