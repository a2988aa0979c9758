public import CardCredentials
public import Foundation

/// A lifecycle flow of the portal's server, under `/api/v1/flows/<name>`: what one flow adds to the shared steps
/// of ``FlowSession`` — its name, the answers of its confirmation and of its commit, and the path of its commit.
///
/// Every flow has the same shape on the server: `POST /flows/<name>` starts it, `GET /flows/<name>/<id>` is its
/// state, `POST …/challenge` issues a challenge for the step it is at, `POST …/<step>` takes card evidence for
/// that step, `GET …/confirmation` is the confirmation screen, `POST …/<commit>` carries the change out and
/// `POST …/back` goes back a step (戻る). A new flow is one small type:
///
/// ```swift
/// public enum CertificateUpdateFlow: PortalFlow {
///     public static let name = "certificate-update"
///     public static let commitPath = "update"
///     public struct Confirmation: Decodable, Sendable { … }
///     public struct Completion: Decodable, Sendable { … }
/// }
/// ```
public protocol PortalFlow: Sendable {
    /// The confirmation screen's document (`GET …/confirmation`).
    associatedtype Confirmation: Decodable & Sendable
    /// The completion's document (`POST …/<commitPath>`).
    associatedtype Completion: Decodable & Sendable
    /// The flow's name in its paths and in its challenges' `flow` (`ic-card-renewal`).
    static var name: String { get }
    /// The last path segment of the commit (`update`).
    static var commitPath: String { get }
}

/// A step of a flow as the server names it: a card step (`current-card`, `new-card`, …, also the path its
/// evidence is sent to and the `step` of its challenges), ``confirm`` or ``completed``.
public struct FlowStep: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
    /// The step's name.
    public let rawValue: String
    /// A step from its name.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A step from its name.
    public init(_ name: String) { rawValue = name }
    /// The name.
    public var description: String { rawValue }

    /// The confirmation screen is ready; the commit is next.
    public static let confirm = FlowStep("confirm")
    /// The change was committed.
    public static let completed = FlowStep("completed")

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Where a flow stands (the server's `Flow` document).
public struct FlowState: Sendable, Hashable, Codable {
    /// The flow's identifier: any instance of the server continues it.
    public var flowID: String
    /// The step it is at.
    public var step: FlowStep
    /// When it expires unless finished.
    public var expiresAt: Date
    /// The change committed (受付番号), once completed.
    public var changeID: String?
}

/// One flow of one user on the portal's server, driven step by step; the generic core every flow shares.
///
/// ```swift
/// let renewal = try await client.start(ICCardRenewalFlow.self)
/// _ = try await renewal.presentCard(with: currentCard, at: .currentCard)
/// ```
///
/// The session is a value: it holds the client and the flow's identifier, nothing else — the state lives in the
/// server's database. ``PortalClient/resume(_:flowID:)`` continues a flow from its identifier, through any
/// instance of the server.
public struct FlowSession<Flow: PortalFlow>: Sendable {
    /// The client the requests go through.
    public let client: PortalClient
    /// The flow's identifier.
    public let flowID: String

    init(client: PortalClient, flowID: String) throws(PortalClientError) {
        self.client = client
        self.flowID = try PortalClient.checkedFlowID(flowID)
    }

    var path: String { "flows/\(Flow.name)/\(flowID)" }

    /// The flow's state (`GET /flows/<name>/<id>`).
    public func state() async throws(PortalClientError) -> FlowState {
        try await client.send("GET", path, as: FlowState.self)
    }

    /// A challenge for `step` (`POST …/challenge`); refused without signing when the server issues one for
    /// another flow or step (the flow is elsewhere than the caller thinks).
    public func challenge(for step: FlowStep) async throws(PortalClientError) -> EvidenceChallenge {
        let purpose: EvidencePurpose
        do { purpose = try EvidencePurpose(flow: Flow.name, step: step.rawValue) } catch {
            throw PortalClientError(.unexpectedAnswer, "\(step) is not a step name: \(error.description)")
        }
        return try await client.challenge(at: path + "/challenge", expecting: purpose)
    }

    /// Sends evidence made for a challenge of `step` to the step (`POST …/<step>`).
    public func present(_ evidence: CardEvidence, at step: FlowStep) async throws(PortalClientError) -> FlowState {
        try await client.send("POST", path + "/" + step.rawValue, json: evidence, as: FlowState.self)
    }

    /// Sends `body` to the step (`POST …/<step>`): for a step that takes more than the evidence (what the
    /// certificate is on, a consent) or no evidence at all (an application number).
    public func post(_ body: some Encodable & Sendable, to step: FlowStep) async throws(PortalClientError)
        -> FlowState
    {
        try await client.send("POST", path + "/" + step.rawValue, json: body, as: FlowState.self)
    }

    /// A card step whole: a challenge for `step`, evidence from `signer` for the client's origin, and the
    /// evidence sent to the step.
    ///
    /// - Returns: The flow's state after the step.
    /// - Throws: ``PortalClientError`` (the rules' refusals as the problem's rule), or the signer's own error;
    ///   the flow stays at the step either way.
    public func presentCard(with signer: some EvidenceSigner, at step: FlowStep) async throws -> FlowState {
        let challenge = try await challenge(for: step)
        let evidence = try await signer.evidence(for: challenge, origin: client.origin)
        return try await present(evidence, at: step)
    }

    /// The confirmation screen (`GET …/confirmation`), once the flow is at ``FlowStep/confirm``.
    public func confirmation() async throws(PortalClientError) -> Flow.Confirmation {
        try await client.send("GET", path + "/confirmation", as: Flow.Confirmation.self)
    }

    /// Carries the change out (`POST …/<commitPath>`).
    public func commit() async throws(PortalClientError) -> Flow.Completion {
        try await client.send("POST", path + "/" + Flow.commitPath, as: Flow.Completion.self)
    }

    /// Goes back a step (戻る, `POST …/back`); nothing is stored.
    public func back() async throws(PortalClientError) -> FlowState {
        try await client.send("POST", path + "/back", as: FlowState.self)
    }
}

extension PortalClient {
    /// A flow's identifier as it may go into a path: the server's are letters, digits, `-` and `_`.
    static func checkedFlowID(_ flowID: String) throws(PortalClientError) -> String {
        guard (1...128).contains(flowID.utf8.count),
            flowID.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            })
        else {
            throw PortalClientError(.unexpectedAnswer, "The server named a flow with an identifier the client refuses.")
        }
        return flowID
    }

    /// Starts a flow for the session's user (`POST /flows/<name>`).
    public func start<Flow: PortalFlow>(_ flow: Flow.Type) async throws(PortalClientError) -> FlowSession<Flow> {
        let state = try await send("POST", "flows/\(Flow.name)", as: FlowState.self)
        return try FlowSession(client: self, flowID: state.flowID)
    }

    /// Starts a flow that takes a body (what it is about: an agent, a certificate) at its start.
    public func start<Flow: PortalFlow>(_ flow: Flow.Type, with body: some Encodable & Sendable)
        async throws(PortalClientError) -> FlowSession<Flow>
    {
        let state = try await send("POST", "flows/\(Flow.name)", json: body, as: FlowState.self)
        return try FlowSession(client: self, flowID: state.flowID)
    }

    /// Continues the flow `flowID` through this client (another instance of the server, a new session of the
    /// same user): its state is read first, so a flow that is not the user's, or has expired, is refused here.
    public func resume<Flow: PortalFlow>(_ flow: Flow.Type, flowID: String) async throws(PortalClientError)
        -> FlowSession<Flow>
    {
        let session = try FlowSession<Flow>(client: self, flowID: flowID)
        _ = try await session.state()
        return session
    }
}
