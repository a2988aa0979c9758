public import Foundation

/// A user (利用者) of a business: its representative or an agent, with the user's basic information.
public struct User: Sendable, Hashable, Codable, Identifiable {
    /// Whether the user can still act.
    public enum Status: String, Sendable, Hashable, Codable {
        /// The user is registered.
        case active
        /// The user was deleted (利用者情報削除); irreversible.
        case deleted
    }

    /// The user's identifier.
    public var id: UserID
    /// 代表者 or 代理人.
    public var role: Role
    /// 利用者基本情報.
    public var information: UserInformation
    /// Active or deleted.
    public var status: Status
    /// When the user was registered.
    public var registeredAt: Date
    /// When the user was deleted, if it was.
    public var deletedAt: Date?

    /// A new user.
    public init(role: Role, information: UserInformation, at date: Date) {
        id = .random()
        self.role = role
        self.information = information
        status = .active
        registeredAt = date
    }

    /// A user as a store read it back, with its stored identifier (no new one is drawn).
    package init(
        stored id: UserID, role: Role, information: UserInformation, status: Status, registeredAt: Date,
        deletedAt: Date?
    ) {
        self.id = id
        self.role = role
        self.information = information
        self.status = status
        self.registeredAt = registeredAt
        self.deletedAt = deletedAt
    }
}
