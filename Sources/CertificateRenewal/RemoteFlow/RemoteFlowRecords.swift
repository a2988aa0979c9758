import Foundation
import Registration
import X509

/// The state of a flow that a server drives, as a plain value kept in the store between requests.
protocol RemoteFlowState: Codable, Sendable {
    /// The flow's identifier.
    var flowID: String { get }
    /// When the flow ends if it is not continued.
    var expiresAt: Date { get set }
    /// Whether the flow ended (its expiry is then no longer pushed back).
    var isCompleted: Bool { get }
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
        var generator = SystemRandomNumberGenerator()
        return prefix
            + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
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
