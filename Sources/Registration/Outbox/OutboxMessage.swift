public import Foundation

/// One message waiting in the outbox: a hand-over to GEPS or a completion mail, written in the same transaction
/// as the change it reports, and delivered at least once afterwards.
public struct OutboxMessage: Sendable, Hashable, Codable, Identifiable {
    /// Where a message goes.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A hand-over (連携) to GEPS; ``OutboxMessage/payload`` is the JSON document.
        case gepsHandOver
        /// A completion mail; ``OutboxMessage/payload`` is the JSON of a ``MailMessage``.
        case mail
    }

    /// Where a message stands.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Not delivered yet; tried again from ``OutboxMessage/nextAttemptAt``.
        case pending
        /// Delivered; never sent again.
        case delivered
        /// Refused for good (a permanent error, or too many tries): a person must look at it.
        case failed
    }

    /// The message's identifier.
    public var id: OutboxMessageID
    /// The change it reports.
    public var changeID: ChangeID
    /// The business the change was made to.
    public var businessID: BusinessID
    /// A hand-over or a mail.
    public var kind: Kind
    /// The key the receiver uses to recognise a repeated delivery: `<change>/<kind>`.
    public var idempotencyKey: String
    /// What is delivered (JSON).
    public var payload: [UInt8]
    /// A message that must be delivered first (the mail waits until GEPS has taken the hand-over).
    public var after: OutboxMessageID?
    /// Pending, delivered or failed.
    public var state: State
    /// How many deliveries were tried.
    public var attempts: Int
    /// When the message was written.
    public var createdAt: Date
    /// The earliest time of the next try.
    public var nextAttemptAt: Date
    /// Until when a dispatcher holds the message (so two dispatchers do not send it at the same moment).
    public var leasedUntil: Date?
    /// When it was delivered.
    public var deliveredAt: Date?
    /// What the receiver answered on delivery (e.g. the GEPS reference).
    public var receipt: String?
    /// The last error, as a sentence.
    public var lastError: String?

    /// A new pending message.
    public init(
        changeID: ChangeID, businessID: BusinessID, kind: Kind, payload: [UInt8], after: OutboxMessageID? = nil,
        at date: Date
    ) {
        id = .random()
        self.changeID = changeID
        self.businessID = businessID
        self.kind = kind
        idempotencyKey = "\(changeID.rawValue)/\(kind.rawValue)"
        self.payload = payload
        self.after = after
        state = .pending
        attempts = 0
        createdAt = date
        nextAttemptAt = date
    }
}

/// The outcome of one delivery attempt, as the dispatcher records it.
public enum DeliveryOutcome: Sendable, Hashable {
    /// Delivered; the receiver's answer (a reference) if it gave one.
    case delivered(receipt: String?)
    /// Failed for now; try again at `nextAttempt`.
    case retry(error: String, nextAttempt: Date)
    /// Failed for good.
    case failed(error: String)
}
