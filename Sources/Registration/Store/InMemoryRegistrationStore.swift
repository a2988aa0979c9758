public import Foundation

/// A ``RegistrationStore`` that keeps everything in memory: for tests, previews and single-process tools.
///
/// It has exactly the semantics of the SQLite store: a commit checks the expected version and the uniqueness of
/// active certificates, then writes the registration, its history entry and its outbox messages together, or
/// nothing. Its contents are lost when it is released.
public actor InMemoryRegistrationStore: RegistrationStore {
    private var registrationsByID: [BusinessID: BusinessRegistration] = [:]
    /// Business identifiers in the order they were first stored.
    private var registrationOrder: [BusinessID] = []
    private var historyByID: [BusinessID: [ChangeRecord]] = [:]
    private var challenges: [String: IssuedChallenge] = [:]
    private var flows: [String: StoredFlow] = [:]
    /// Every outbox message in the order it was written.
    private var messages: [OutboxMessage] = []

    /// An empty store.
    public init() {}

    public func registration(_ id: BusinessID) -> BusinessRegistration? {
        registrationsByID[id]
    }

    public func registration(ofUser id: UserID) -> BusinessRegistration? {
        registrationOrder.lazy.compactMap { self.registrationsByID[$0] }.first { registration in
            registration.users.contains { $0.id == id }
        }
    }

    public func registration(boundTo fingerprint: String) -> BusinessRegistration? {
        let candidates = registrationOrder.compactMap { registrationsByID[$0] }.filter {
            $0.binding(fingerprint: fingerprint) != nil
        }
        // An active binding wins; otherwise the registration that bound the certificate last.
        if let active = candidates.first(where: { registration in
            registration.bindings.contains { $0.fingerprint == fingerprint && $0.recordedStatus == .active }
        }) {
            return active
        }
        return candidates.max { lhs, rhs in
            Self.lastBinding(of: fingerprint, in: lhs) < Self.lastBinding(of: fingerprint, in: rhs)
        }
    }

    private static func lastBinding(of fingerprint: String, in registration: BusinessRegistration) -> Date {
        registration.bindings.filter { $0.fingerprint == fingerprint }.map(\.boundAt).max() ?? .distantPast
    }

    public func registrations() -> [BusinessRegistration] {
        // By registration date; registrations of the same moment in the order they were stored.
        registrationOrder.compactMap { registrationsByID[$0] }.enumerated().sorted { lhs, rhs in
            lhs.element.registeredAt != rhs.element.registeredAt
                ? lhs.element.registeredAt < rhs.element.registeredAt : lhs.offset < rhs.offset
        }.map(\.element)
    }

    public func registration(corporateNumber: CorporateNumber) -> BusinessRegistration? {
        registrationOrder.lazy.compactMap { self.registrationsByID[$0] }.first {
            $0.business.corporateNumber == corporateNumber
        }
    }

    public func commit(_ commit: RegistrationCommit) throws(RegistrationError) {
        try commit.checkConsistency()
        let registration = commit.registration
        let current = registrationsByID[registration.id]
        guard (current?.version ?? 0) == commit.expectedVersion else { throw .staleChange(registration.id) }

        // Identifiers of the aggregate's records are unique across the store (the SQLite store's primary keys).
        let others = registrationsByID.values.filter { $0.id != registration.id }
        let otherUsers = Set(others.flatMap { $0.users.map(\.id) })
        let otherBindings = Set(others.flatMap { $0.bindings.map(\.id) })
        let otherPowers = Set(others.flatMap { $0.powersOfAttorney.map(\.id) })
        if let user = registration.users.first(where: { otherUsers.contains($0.id) }) {
            throw .storeFailure("user \(user.id) belongs to another registration")
        }
        if let binding = registration.bindings.first(where: { otherBindings.contains($0.id) }) {
            throw .storeFailure("certificate binding \(binding.id) belongs to another registration")
        }
        if let power = registration.powersOfAttorney.first(where: { otherPowers.contains($0.id) }) {
            throw .storeFailure("power of attorney \(power.id) belongs to another registration")
        }
        let activeElsewhere = Set(
            others.flatMap { $0.bindings.filter { $0.recordedStatus == .active }.map(\.fingerprint) })
        if let binding = registration.bindings.first(where: {
            $0.recordedStatus == .active && activeElsewhere.contains($0.fingerprint)
        }) {
            throw .certificateAlreadyBound(fingerprint: binding.fingerprint)
        }
        if let number = registration.business.corporateNumber,
            others.contains(where: { $0.business.corporateNumber == number })
        {
            throw .corporateNumberAlreadyRegistered(number)
        }
        let history = historyByID.values.joined()
        if history.contains(where: { $0.id == commit.record.id }) {
            throw .storeFailure("change \(commit.record.id) is already in the history")
        }
        let messageIDs = Set(messages.map(\.id))
        if let message = commit.outbox.first(where: { messageIDs.contains($0.id) }) {
            throw .storeFailure("outbox message \(message.id) is already in the outbox")
        }

        // Every check passed: write all of it.
        if current == nil { registrationOrder.append(registration.id) }
        registrationsByID[registration.id] = registration
        historyByID[registration.id, default: []].append(commit.record)
        messages.append(contentsOf: commit.outbox)
    }

    public func history(of id: BusinessID) -> [ChangeRecord] {
        historyByID[id] ?? []
    }

    public func insert(_ challenge: IssuedChallenge) throws(RegistrationError) {
        guard challenges[challenge.id] == nil else {
            throw .storeFailure("a card challenge \(challenge.id) exists already")
        }
        challenges[challenge.id] = challenge
    }

    public func takeChallenge(_ id: String) -> IssuedChallenge? {
        challenges.removeValue(forKey: id)
    }

    public func purgeChallenges(expiredBefore date: Date) -> Int {
        let expired = challenges.values.filter { $0.expiresAt < date }.map(\.id)
        for id in expired { challenges.removeValue(forKey: id) }
        return expired.count
    }

    public func flow(_ id: String) -> StoredFlow? {
        flows[id]
    }

    public func save(_ flow: StoredFlow) throws(RegistrationError) {
        let stored = flows[flow.id]
        if flow.version == 1 {
            guard stored == nil else { throw .flowChanged(flow.id) }
        } else {
            guard let stored, stored.version == flow.version - 1, stored.kind == flow.kind, stored.owner == flow.owner
            else { throw .flowChanged(flow.id) }
        }
        guard flow.version >= 1 else { throw .flowChanged(flow.id) }
        flows[flow.id] = flow
    }

    public func removeFlow(_ id: String) -> Bool {
        flows.removeValue(forKey: id) != nil
    }

    public func purgeFlows(expiredBefore date: Date) -> Int {
        let expired = flows.values.filter { $0.expiresAt < date }.map(\.id)
        for id in expired { flows.removeValue(forKey: id) }
        return expired.count
    }

    public func outbox(state: OutboxMessage.State?) -> [OutboxMessage] {
        Self.inCreationOrder(messages.filter { state == nil || $0.state == state })
    }

    public func leaseDueMessages(at date: Date, limit: Int, leaseUntil: Date) -> [OutboxMessage] {
        guard limit > 0 else { return [] }
        let delivered = Set(messages.filter { $0.state == .delivered }.map(\.id))
        let due = Self.inCreationOrder(
            messages.filter { message in
                message.state == .pending && message.nextAttemptAt <= date
                    && (message.leasedUntil.map { $0 < date } ?? true)
                    && (message.after.map { delivered.contains($0) } ?? true)
            }
        ).prefix(limit)
        var leased: [OutboxMessage] = []
        for var message in due {
            message.leasedUntil = leaseUntil
            if let index = messages.firstIndex(where: { $0.id == message.id }) { messages[index] = message }
            leased.append(message)
        }
        return leased
    }

    public func record(_ outcome: DeliveryOutcome, for id: OutboxMessageID, at date: Date) throws(RegistrationError) {
        guard let index = messages.firstIndex(where: { $0.id == id }) else {
            throw .outboxMessageNotFound(id)
        }
        messages[index].apply(outcome, at: date)
    }

    public func requeue(_ id: OutboxMessageID, at date: Date) throws(RegistrationError) -> [OutboxMessageID] {
        guard let index = messages.firstIndex(where: { $0.id == id }) else { throw .outboxMessageNotFound(id) }
        guard messages[index].state == .failed else {
            throw .changeNotAllowed("outbox message \(id) is \(messages[index].state.rawValue), not failed")
        }
        var requeued: [OutboxMessageID] = []
        for position in messages.indices
        where messages[position].id == id || (messages[position].after == id && messages[position].state == .failed) {
            messages[position].requeue(at: date)
            requeued.append(messages[position].id)
        }
        return requeued
    }

    /// Messages ordered by creation time; messages written at the same time keep the order they were written in.
    private static func inCreationOrder(_ messages: [OutboxMessage]) -> [OutboxMessage] {
        messages.enumerated().sorted { lhs, rhs in
            lhs.element.createdAt != rhs.element.createdAt
                ? lhs.element.createdAt < rhs.element.createdAt : lhs.offset < rhs.offset
        }.map(\.element)
    }
}

// MARK: - Shared by the stores

extension RegistrationCommit {
    /// Checks what a store can check without its contents: the versions, the identifiers of the history entry and
    /// the outbox messages, that bindings and powers of attorney belong to users of the registration, and that no
    /// certificate is active twice in it.
    package func checkConsistency() throws(RegistrationError) {
        guard expectedVersion >= 0 else {
            throw .storeFailure("the expected version \(expectedVersion) is negative")
        }
        guard registration.version == expectedVersion + 1 else {
            throw .storeFailure(
                "the registration is at version \(registration.version), not \(expectedVersion + 1) as a change "
                    + "over version \(expectedVersion) must be")
        }
        guard record.businessID == registration.id else {
            throw .storeFailure("the history entry names business \(record.businessID), not \(registration.id)")
        }
        if let message = outbox.first(where: { $0.businessID != registration.id }) {
            throw .storeFailure(
                "outbox message \(message.id) names business \(message.businessID), not \(registration.id)")
        }
        let userIDs = Set(registration.users.map(\.id))
        guard userIDs.count == registration.users.count else {
            throw .storeFailure("the registration lists a user twice")
        }
        guard Set(registration.bindings.map(\.id)).count == registration.bindings.count else {
            throw .storeFailure("the registration lists a certificate binding twice")
        }
        guard Set(registration.powersOfAttorney.map(\.id)).count == registration.powersOfAttorney.count else {
            throw .storeFailure("the registration lists a power of attorney twice")
        }
        guard Set(outbox.map(\.id)).count == outbox.count else {
            throw .storeFailure("the commit lists an outbox message twice")
        }
        if let binding = registration.bindings.first(where: { !userIDs.contains($0.userID) }) {
            throw .storeFailure("certificate binding \(binding.id) names user \(binding.userID), who is not registered")
        }
        if let power = registration.powersOfAttorney.first(where: { !userIDs.contains($0.agentID) }) {
            throw .storeFailure("power of attorney \(power.id) names user \(power.agentID), who is not registered")
        }
        var active: Set<String> = []
        for binding in registration.bindings where binding.recordedStatus == .active {
            guard active.insert(binding.fingerprint).inserted else {
                throw .certificateAlreadyBound(fingerprint: binding.fingerprint)
            }
        }
        guard registration.users.filter({ $0.role == .representative && $0.status == .active }).count <= 1 else {
            throw .changeNotAllowed("a business has one representative (代表者); the registration lists two")
        }
    }
}

extension OutboxMessage {
    /// Records one delivery attempt's outcome: one more attempt, the lease cleared.
    package mutating func apply(_ outcome: DeliveryOutcome, at date: Date) {
        attempts += 1
        leasedUntil = nil
        switch outcome {
        case .delivered(let receipt):
            state = .delivered
            deliveredAt = date
            self.receipt = receipt
            lastError = nil
        case .retry(let error, let nextAttempt):
            state = .pending
            lastError = error
            nextAttemptAt = nextAttempt
        case .failed(let error):
            state = .failed
            lastError = error
        }
    }
}
