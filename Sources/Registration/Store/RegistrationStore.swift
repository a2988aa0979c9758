public import CardCredentials
public import Foundation

/// One committed change, as a store writes it atomically.
///
/// The store checks that the registration is still at ``expectedVersion`` (0 for a new registration), then writes
/// ``registration`` (whose version is `expectedVersion + 1`), the ``record`` of the change and the ``outbox``
/// messages, all in one transaction, or nothing.
public struct RegistrationCommit: Sendable, Hashable {
    /// The version the change was prepared against.
    public var expectedVersion: Int
    /// The registration after the change, at `expectedVersion + 1`.
    public var registration: BusinessRegistration
    /// What was changed, by whom: the history entry.
    public var record: ChangeRecord
    /// The hand-over and mail that report the change.
    public var outbox: [OutboxMessage]

    /// A commit of `registration` over `expectedVersion`.
    public init(
        expectedVersion: Int, registration: BusinessRegistration, record: ChangeRecord, outbox: [OutboxMessage]
    ) {
        self.expectedVersion = expectedVersion
        self.registration = registration
        self.record = record
        self.outbox = outbox
    }
}

/// An entry of a registration's history: one committed change.
public struct ChangeRecord: Sendable, Hashable, Codable, Identifiable {
    /// The change's identifier.
    public var id: ChangeID
    /// The business changed.
    public var businessID: BusinessID
    /// The user who made the change (nil for a new registration made by the portal).
    public var actor: UserID?
    /// What kind of change (e.g. `updateUserInformation`).
    public var kind: String
    /// A one-line summary, in Japanese as the completion screen shows it.
    public var summary: String
    /// The registration's version after the change.
    public var version: Int
    /// When it was committed.
    public var committedAt: Date

    /// A history entry.
    public init(
        id: ChangeID = .random(), businessID: BusinessID, actor: UserID?, kind: String, summary: String,
        version: Int, committedAt: Date
    ) {
        self.id = id
        self.businessID = businessID
        self.actor = actor
        self.kind = kind
        self.summary = summary
        self.version = version
        self.committedAt = committedAt
    }
}

/// A challenge for a card step as the portal's store keeps it: the challenge, whom it was issued to, and when.
public struct IssuedChallenge: Sendable, Hashable, Identifiable {
    /// The challenge (identifier, nonce, flow and step, expiry).
    public var challenge: EvidenceChallenge
    /// The session or flow the challenge was issued to (evidence for it is accepted there only), or nil for a
    /// challenge anyone may answer (a login).
    public var owner: String?
    /// When it was issued.
    public var issuedAt: Date

    /// The challenge's identifier.
    public var id: String { challenge.id }
    /// When it stops being accepted.
    public var expiresAt: Date { challenge.expiresAt }

    /// A challenge as issued.
    public init(_ challenge: EvidenceChallenge, owner: String? = nil, issuedAt: Date) {
        self.challenge = challenge
        self.owner = owner
        self.issuedAt = issuedAt
    }

    /// A challenge read back from a store's row; parts that no longer pass the challenge's checks are an
    /// unreadable row.
    package init(
        stored id: String, nonce: [UInt8], flow: String, step: String, owner: String?, issuedAt: Date, expiresAt: Date
    ) throws(RegistrationError) {
        do {
            let purpose = try EvidencePurpose(flow: flow, step: step)
            challenge = try EvidenceChallenge(id: id, nonce: nonce, purpose: purpose, expiresAt: expiresAt)
        } catch {
            throw .storeUnreadable(table: "card_challenge", column: "id", reason: error.description)
        }
        self.owner = owner
        self.issuedAt = issuedAt
    }
}

/// The stored state of something a server continues across requests, and across its instances: a flow (an IC
/// card renewal between its steps) or a session. The store keeps it as bytes (the caller's JSON) with a version,
/// so two instances that continue one flow at once cannot both write: the second's ``RegistrationStore/save(_:)``
/// fails with ``RegistrationError/flowChanged(_:)``.
public struct StoredFlow: Sendable, Hashable, Identifiable {
    /// The identifier (random, chosen by the caller).
    public var id: String
    /// What it is (`ic-card-renewal`, `session`).
    public var kind: String
    /// Whose it is (a user's identifier): a flow is continued by its owner only.
    public var owner: String
    /// 1 when first saved, one more with each save.
    public var version: Int
    /// The state, as the caller encoded it.
    public var state: Data
    /// When it was last saved.
    public var updatedAt: Date
    /// When it stops being continued.
    public var expiresAt: Date

    /// A flow's state.
    public init(
        id: String, kind: String, owner: String, version: Int = 1, state: Data, updatedAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.owner = owner
        self.version = version
        self.state = state
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
    }
}

/// Where registrations, their history, login challenges and the outbox are kept.
///
/// Every method is one transaction. ``commit(_:)`` is the only way a registration changes: it checks the
/// expected version, writes the registration, its history entry and its outbox messages together, or nothing. A
/// store for another database (PostgreSQL) implements the same protocol; the domain does not change.
public protocol RegistrationStore: Sendable {
    /// The registration of a business, or nil.
    func registration(_ id: BusinessID) async throws(RegistrationError) -> BusinessRegistration?
    /// The registration that has this user, or nil.
    func registration(ofUser id: UserID) async throws(RegistrationError) -> BusinessRegistration?
    /// The registration that has a binding (of any status) of the certificate with this SHA-256 fingerprint.
    func registration(boundTo fingerprint: String) async throws(RegistrationError) -> BusinessRegistration?
    /// The holder of the certificate with this SHA-256 fingerprint: its binding in the registration that
    /// ``registration(boundTo:)`` answers with (see ``CertificateHolder/init(fingerprint:in:)``), that binding's
    /// user and the business; nil when no registration bound it. What a certificate login reads: a store answers
    /// with a query of its own; the default reads the registration.
    func holder(ofCertificate fingerprint: String) async throws(RegistrationError) -> CertificateHolder?
    /// Every registration, in order of registration.
    func registrations() async throws(RegistrationError) -> [BusinessRegistration]
    /// One page of the registrations, in order of registration: up to `page.limit` that come after `page.after`
    /// and match its filter. A store answers with a query of its own; the default filters ``registrations()``.
    func registrations(_ page: RegistrationPage) async throws(RegistrationError) -> [BusinessRegistration]
    /// The registration of the business with this 法人番号, or nil.
    func registration(corporateNumber: CorporateNumber) async throws(RegistrationError) -> BusinessRegistration?

    /// Writes a change atomically.
    ///
    /// The rules of the form "at most one" hold whichever process commits, as the database's constraints: one
    /// active binding of a certificate, one business per 法人番号, one active representative per business, and
    /// identifiers (users, bindings, powers of attorney, history entries, outbox messages) unique across the store.
    /// - Throws: ``RegistrationError/staleChange(_:)`` when the registration is not at the expected version (or,
    ///   for version 0, exists already); ``RegistrationError/certificateAlreadyBound(fingerprint:)`` when an
    ///   active binding's certificate is active in another registration;
    ///   ``RegistrationError/corporateNumberAlreadyRegistered(_:)`` when another business has the 法人番号;
    ///   ``RegistrationError/storeFailure(_:)``.
    func commit(_ commit: RegistrationCommit) async throws(RegistrationError)
    /// The history of a registration, oldest first.
    func history(of id: BusinessID) async throws(RegistrationError) -> [ChangeRecord]

    /// Keeps a new challenge for a card step.
    func insert(_ challenge: IssuedChallenge) async throws(RegistrationError)
    /// Removes and returns a challenge, atomically: a challenge can be taken once, by one of several servers.
    func takeChallenge(_ id: String) async throws(RegistrationError) -> IssuedChallenge?
    /// Removes challenges that expired before `date`; returns how many.
    func purgeChallenges(expiredBefore date: Date) async throws(RegistrationError) -> Int

    /// The stored flow with this identifier, expired or not, or nil.
    func flow(_ id: String) async throws(RegistrationError) -> StoredFlow?
    /// Saves a flow: version 1 is a new flow; a higher version replaces the stored one at the version before.
    /// - Throws: ``RegistrationError/flowChanged(_:)`` when the stored flow is not at `version - 1` (another
    ///   request or server saved it meanwhile, or it was removed), or version 1 exists already.
    func save(_ flow: StoredFlow) async throws(RegistrationError)
    /// Removes a flow; returns whether it was there.
    func removeFlow(_ id: String) async throws(RegistrationError) -> Bool
    /// Removes flows that expired before `date`; returns how many.
    func purgeFlows(expiredBefore date: Date) async throws(RegistrationError) -> Int

    /// Outbox messages, newest last; only those in `state` when given.
    func outbox(state: OutboxMessage.State?) async throws(RegistrationError) -> [OutboxMessage]
    /// Leases up to `limit` pending messages that are due at `date`, whose lease ran out and whose ``OutboxMessage/after``
    /// message was delivered; each is leased until `leaseUntil` and returned with its lease set.
    func leaseDueMessages(at date: Date, limit: Int, leaseUntil: Date) async throws(RegistrationError)
        -> [OutboxMessage]
    /// Records the outcome of a delivery attempt (attempts + 1, lease cleared).
    func record(_ outcome: DeliveryOutcome, for id: OutboxMessageID, at date: Date) async throws(RegistrationError)
    /// Puts a failed message back in the queue, due at `date` with its tries counted from zero, together with the
    /// failed messages that wait for it (a hand-over's mails); returns the messages requeued.
    /// - Throws: ``RegistrationError/outboxMessageNotFound(_:)``, or ``RegistrationError/changeNotAllowed(_:)``
    ///   when the message is not failed.
    func requeue(_ id: OutboxMessageID, at date: Date) async throws(RegistrationError) -> [OutboxMessageID]
}

/// A page of registrations to read: a limit, where the previous page ended, and a filter.
///
/// The filters combine (a registration passes when it passes every filter given). The PostgreSQL and SQLite stores
/// answer with one query that uses an index for each filter: the order of registration, the 法人番号, and the
/// expiry of active certificate bindings.
///
/// ```swift
/// // The operator's list before a renewal season: businesses whose active certificate expires within 30 days.
/// let page = RegistrationPage(limit: 100, certificateExpiry: RegistrationPage.expiry(withinDays: 30))
/// let renewals = try await store.registrations(page)
/// ```
public struct RegistrationPage: Sendable, Hashable {
    /// How many registrations at most.
    public var limit: Int
    /// The last registration of the previous page (nil for the first page): the page starts after it.
    public var after: BusinessID?
    /// Only businesses whose name (商号又は名称) contains this text, when given.
    public var nameContaining: String?
    /// Only the business with this 法人番号, when given.
    public var corporateNumber: CorporateNumber?
    /// Only businesses that have an active certificate binding whose end of validity (`notValidAfter`) falls in
    /// this range, when given: see ``expiry(withinDays:from:)``.
    public var certificateExpiry: Range<Date>?

    /// A page of at most `limit` registrations after `after` that pass the filters given.
    public init(
        limit: Int, after: BusinessID? = nil, nameContaining: String? = nil, corporateNumber: CorporateNumber? = nil,
        certificateExpiry: Range<Date>? = nil
    ) {
        self.limit = limit
        self.after = after
        self.nameContaining = nameContaining
        self.corporateNumber = corporateNumber
        self.certificateExpiry = certificateExpiry
    }

    /// The range of ends of validity that "expires within `days` days" means: from `now` (a certificate that has
    /// already expired is not in it) to `days` × 24 hours later.
    public static func expiry(withinDays days: Int, from now: Date = Date()) -> Range<Date> {
        now..<now.addingTimeInterval(Double(max(days, 0)) * 86_400)
    }

    /// Whether a registration passes the filters.
    public func matches(_ registration: BusinessRegistration) -> Bool {
        if let text = nameContaining, !text.isEmpty, !registration.business.name.contains(text) { return false }
        if let corporateNumber, registration.business.corporateNumber != corporateNumber { return false }
        if let certificateExpiry,
            !registration.bindings.contains(where: {
                $0.recordedStatus == .active && certificateExpiry.contains($0.notValidAfter)
            })
        {
            return false
        }
        return true
    }

    /// The query of the businesses' identifiers of the page, in order of registration, as both SQL stores run it:
    /// `placeholder(n)` is the n-th argument's SQL (1-based), `contains` the SQL function that finds text in a name
    /// by position (so that `%` and `_` in it are plain text): `instr` for SQLite, `strpos` for PostgreSQL.
    ///
    /// Each filter is a condition that an index answers: `business (registered_at, number)` for the order and the
    /// page's start, `business (corporate_number)` for the 法人番号, and for the expiry either `binding
    /// (not_valid_after, business_id) WHERE status = 'active'` (the businesses of the range are collected, then
    /// sorted: `id IN (…)`) or, with `probingExpiry`, `binding (business_id, not_valid_after) WHERE status =
    /// 'active'` (each business, in order of registration, is asked until the page is full: `EXISTS (…)`). Both
    /// forms select the same businesses; the first is cheaper when few businesses fall in the range, the second
    /// when many do (a renewal season's list).
    package func sql(placeholder: (Int) -> String, contains: String, probingExpiry: Bool = false) -> (
        sql: String, arguments: [ColumnValue]
    ) {
        var conditions: [String] = []
        var arguments: [ColumnValue] = []
        func next(_ value: ColumnValue) -> String {
            arguments.append(value)
            return placeholder(arguments.count)
        }
        if let after {
            // After the given registration in (registered_at, number) order; an unknown one gives no page.
            conditions.append(
                "(registered_at, number) > (SELECT registered_at, number FROM business WHERE id = \(next(.text(after.rawValue))))"
            )
        }
        if let text = nameContaining, !text.isEmpty {
            conditions.append("\(contains)(name, \(next(.text(text)))) > 0")
        }
        if let corporateNumber {
            conditions.append("corporate_number = \(next(.text(corporateNumber.digits)))")
        }
        if let certificateExpiry {
            let from = next(.real(certificateExpiry.lowerBound.timeIntervalSinceReferenceDate))
            let until = next(.real(certificateExpiry.upperBound.timeIntervalSinceReferenceDate))
            if probingExpiry {
                conditions.append(
                    "EXISTS (SELECT 1 FROM binding WHERE binding.business_id = business.id AND binding.status = "
                        + "'active' AND binding.not_valid_after >= \(from) AND binding.not_valid_after < \(until))")
            } else {
                conditions.append(
                    "id IN (SELECT business_id FROM binding WHERE status = 'active' AND not_valid_after >= \(from) "
                        + "AND not_valid_after < \(until))")
            }
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return (
            "SELECT id FROM business\(filter) ORDER BY registered_at, number LIMIT \(next(.integer(limit)))", arguments
        )
    }
}

extension RegistrationStore {
    /// The holder, read from ``registration(boundTo:)``: for stores that have no query of their own.
    public func holder(ofCertificate fingerprint: String) async throws(RegistrationError) -> CertificateHolder? {
        guard let registration = try await registration(boundTo: fingerprint) else { return nil }
        return try CertificateHolder(fingerprint: fingerprint, in: registration)
    }

    /// The page, filtered from ``registrations()``: for stores that have no query of their own.
    public func registrations(_ page: RegistrationPage) async throws(RegistrationError) -> [BusinessRegistration] {
        guard page.limit > 0 else { return [] }
        var all = try await registrations()
        if let after = page.after {
            guard let index = all.firstIndex(where: { $0.id == after }) else { return [] }
            all.removeFirst(index + 1)
        }
        return Array(all.lazy.filter(page.matches).prefix(page.limit))
    }
}

extension OutboxMessage {
    /// The message put back in the queue at `date`.
    package mutating func requeue(at date: Date) {
        state = .pending
        attempts = 0
        nextAttemptAt = date
        leasedUntil = nil
    }
}
