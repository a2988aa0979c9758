import CardCredentials
import Foundation
import Registration
import X509

/// The state of a flow that a server drives, as a plain value kept in the store between requests.
protocol RemoteFlowState: Codable, Sendable {
    /// The flow's steps, named as in evidence and on the wire.
    associatedtype Step: LifecycleStepName
    /// The steps that take card evidence, for the refusal when the flow is at another.
    static var cardSteps: [Step] { get }
    /// The flow's identifier.
    var flowID: String { get }
    /// The step the flow is at.
    var step: Step { get }
    /// The flow and step a card's evidence must be made for now; nil at a step that takes none.
    var evidencePurpose: EvidencePurpose? { get }
    /// When the flow ends if it is not continued.
    var expiresAt: Date { get set }
    /// Whether the flow ended (its expiry is then no longer pushed back).
    var isCompleted: Bool { get }
    /// Who continues the flow: a user's identifier, or the flow's name for a flow without a session (its
    /// identifier is then what continues it).
    var owner: String { get }
    /// The state back at the flow's first step, with nothing the steps gathered: what 戻る and a restart after a
    /// refusal save (the flow's identifier, user and kind stay).
    func restarted() -> Self
}

/// Where the flows that a server drives keep their state: one `StoredFlow` per flow, of one kind, saved at the
/// next version each time (so of two instances continuing one flow at once, the second is refused with
/// `flowChanged`), with an expiry pushed back at each step. Every remote flow loads and saves through this; the
/// rules stay in the flows.
struct RemoteFlowRecords<State: RemoteFlowState>: Sendable {
    /// The flow's kind in the store (`ic-card-renewal`, `certificate-update`, …).
    let kind: String
    let store: any RegistrationStore
    let now: @Sendable () -> Date
    /// How long a flow waits between steps.
    let lifetime: TimeInterval

    /// A new flow identifier: a letter and 128 random bits in hexadecimal. For a flow without a session (a
    /// certificate update), knowing the identifier is what lets a client continue the flow, so it must not be
    /// guessable.
    static func newFlowID(prefix: String) -> String {
        prefix + LowerHex.string(RandomBytes.make(16))
    }

    /// The state of `flowID` and its version; a flow of another kind or owner is not found (never "not yours":
    /// the identifier of someone else's flow says nothing), an expired one is removed.
    ///
    /// - Throws: ``LifecycleError/flowNotFound(_:)``, ``LifecycleError/flowExpired(_:)``, a store's failure.
    func load(_ flowID: String, owner: String) async throws(LifecycleError) -> (state: State, version: Int) {
        let stored: StoredFlow?
        do { stored = try await store.flow(flowID) } catch { throw .registration(error) }
        guard let stored, stored.kind == kind, stored.owner == owner else { throw .flowNotFound(flowID) }
        guard now() <= stored.expiresAt else {
            _ = try? await store.removeFlow(flowID)
            throw .flowExpired(flowID)
        }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: stored.state) } catch {
            throw .registration(
                .storeUnreadable(table: "flow_state", column: "state", reason: "the state of a \(kind) flow: \(error)"))
        }
        guard state.flowID == flowID else { throw .flowNotFound(flowID) }
        return (state, stored.version)
    }

    /// Saves `state` as version `version` (1 for a new flow, else one more than the version loaded), pushing
    /// its expiry back unless it completed.
    ///
    /// - Returns: The state as saved.
    /// - Throws: ``LifecycleError/registration(_:)`` with `flowChanged` when another request saved that version
    ///   first; a store's failure.
    @discardableResult
    func save(_ state: State, owner: String, version: Int) async throws(LifecycleError) -> State {
        var state = state
        let date = now()
        if !state.isCompleted { state.expiresAt = max(state.expiresAt, date.addingTimeInterval(lifetime)) }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = try encoder.encode(state)
            try await store.save(
                StoredFlow(
                    id: state.flowID, kind: kind, owner: owner, version: version, state: data, updatedAt: date,
                    expiresAt: state.expiresAt))
        } catch let error as RegistrationError {
            throw .registration(error)
        } catch {
            throw .registration(.storeFailure("the state of flow \(state.flowID) could not be encoded: \(error)"))
        }
        return state
    }
}

/// The state of a flow that belongs to a logged-in user: only that user's session continues it.
protocol SessionFlowState: RemoteFlowState {
    var userID: UserID { get }
    var businessID: BusinessID { get }
}

extension SessionFlowState {
    var owner: String { userID.rawValue }
}

// MARK: The step guard every remote flow shares

extension RemoteFlowRecords {
    /// A stored state that lacks what its step needs (written by another version, or damaged): the store's
    /// failure to read it, never a refusal the person could act on.
    static func incomplete(_ what: String) -> LifecycleError {
        .registration(
            .storeUnreadable(table: "flow_state", column: "state", reason: "the state of a \(State.self) lacks \(what)")
        )
    }

    /// 戻る, and the start over after a refusal: the state's ``RemoteFlowState/restarted()`` saved at the next
    /// version, with a fresh expiry. The one restart of every remote flow.
    @discardableResult
    func restart(_ state: State, version: Int) async throws(LifecycleError) -> State {
        var fresh = state.restarted()
        fresh.expiresAt = now().addingTimeInterval(lifetime)
        return try await save(fresh, owner: state.owner, version: version + 1)
    }

    /// Runs `body`; when the rules refuse (anything but a store's failure, after which the flow stays where it
    /// is), the flow starts over: a confirmation made from a registration that changed is never committed.
    func restarting<T>(_ state: State, version: Int, _ body: () async throws(LifecycleError) -> T)
        async throws(LifecycleError) -> T
    {
        do throws(LifecycleError) { return try await body() } catch {
            if !error.isStoreFailure { try await restart(state, version: version) }
            throw error
        }
    }

    /// Refuses a call for `step` when the flow is at another.
    func require(_ step: State.Step, _ state: State) throws(LifecycleError) {
        guard state.step == step else { throw .notAtStep(expected: step, current: state.step) }
    }

    /// The flow and step evidence must be made for now; refused when the flow is not at a card step.
    func purpose(of state: State) throws(LifecycleError) -> EvidencePurpose {
        guard let purpose = state.evidencePurpose else {
            throw .notAtStep(anyOf: State.cardSteps, current: state.step)
        }
        return purpose
    }

    /// A challenge for the card step `state` is at, issued to its flow alone.
    func challenge(for state: State, desk: EvidenceDesk) async throws(LifecycleError) -> EvidenceChallenge {
        let purpose = try purpose(of: state)
        do { return try await desk.issue(for: purpose, owner: state.flowID) } catch { throw .registration(error) }
    }

    /// Takes the evidence's challenge and checks the evidence for the flow's card step, all but the certificate
    /// (the flow's rules judge it in their own words).
    func possession(_ evidence: CardEvidence, for state: State, desk: EvidenceDesk) async throws(LifecycleError)
        -> EvidencePossession
    {
        let purpose = try purpose(of: state)
        do { return try await desk.verifyPossession(evidence, for: purpose, owner: state.flowID) } catch {
            throw .registration(error)
        }
    }
}

extension RemoteFlowRecords where State: SessionFlowState {
    /// The state of `flowID` if it is the flow of `session`'s user and business, else not found.
    func load(_ flowID: String, session: LoginSession) async throws(LifecycleError) -> (state: State, version: Int) {
        let loaded = try await load(flowID, owner: session.userID.rawValue)
        guard loaded.state.userID == session.userID, loaded.state.businessID == session.businessID else {
            throw .flowNotFound(flowID)
        }
        return loaded
    }
}

/// A certificate and its CA certificates in DER, as a flow's stored state keeps them.
struct StoredCertificate: Sendable, Hashable, Codable {
    var certificate: Data
    var chain: [Data]
    var fingerprint: String

    init(certificate: Certificate, chain: [Certificate], fingerprint: String) throws(LifecycleError) {
        do {
            self.certificate = Data(try certificate.derBytes())
            self.chain = try chain.map { Data(try $0.derBytes()) }
        } catch {
            throw .registration(.storeFailure("a certificate could not be encoded: \(error)"))
        }
        self.fingerprint = fingerprint
    }

    /// The certificate and chain decoded again.
    func decoded() throws(LifecycleError) -> (certificate: Certificate, chain: [Certificate]) {
        do {
            return (
                try Certificate(derEncoded: [UInt8](certificate)),
                try chain.map { try Certificate(derEncoded: [UInt8]($0)) }
            )
        } catch {
            throw .registration(
                .storeUnreadable(table: "flow_state", column: "state", reason: "a stored certificate: \(error)"))
        }
    }
}
