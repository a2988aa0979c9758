public import Foundation

/// A change that passed validation and the rights check, waiting for the user's confirmation: nothing is stored
/// yet. Commit it with ``RegistrationService/commit(_:)``, or drop it (戻る) and nothing happens.
public struct PreparedChange: Sendable, Hashable {
    /// The business changed.
    public let businessID: BusinessID
    /// The change.
    public let change: PreparedKind
    /// Who makes it.
    public let actor: RegistrationActor
    /// The confirmation screen.
    public let review: ChangeReview
    /// The registration as it was read (its version is the one the commit expects).
    public let before: BusinessRegistration?
    /// The registration as it will be after the commit.
    public let after: BusinessRegistration
    /// When it was prepared.
    public let preparedAt: Date
    /// After this, the commit is refused (``RegistrationError/preparationExpired``).
    public let expiresAt: Date

    /// A new registration or a change to an existing one.
    public enum PreparedKind: Sendable, Hashable {
        /// 新規登録: a business and its representative.
        case newRegistration
        /// A change to a registration.
        case change(RegistrationChange)

        var name: String {
            switch self {
            case .newRegistration: "registerBusiness"
            case .change(let change): change.name
            }
        }
    }

    /// The version the commit expects the stored registration to be at.
    public var expectedVersion: Int { before?.version ?? 0 }
}

/// A committed change: what the completion screen (完了) shows.
public struct CommittedChange: Sendable, Hashable {
    /// The change's identifier (受付番号), also the key of its outbox messages.
    public let changeID: ChangeID
    /// The registration after the change.
    public let registration: BusinessRegistration
    /// The confirmation screen that was accepted.
    public let review: ChangeReview
    /// The hand-over to GEPS and the completion mails written with the change.
    public let outbox: [OutboxMessage]
}
