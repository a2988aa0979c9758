import CardCredentials
import Foundation
import Synchronization

/// The card agent without its server: an HTTP layer hands it each request (method, path, headers, body) and
/// sends back the ``AgentResponse`` — status, headers and a JSON body.
///
/// Every request passes ``AgentPolicy`` first (Host, Origin, CORS preflight). The operations:
///
/// | method and path | body | answer |
/// |---|---|---|
/// | `GET /v1/status` | — | `{"agent": "card-agent", "protocol": 1, "origin": "<the checked origin>"}` |
/// | `GET /v1/cards` | — | `{"readers": [``AgentReader``]}`: the readers, the cards in them and their certificates |
/// | `POST /v1/authenticate` | the portal's challenge (`EvidenceChallenge`'s JSON) | the evidence (`CardEvidence`'s JSON) |
/// | `POST /v1/sign` | ``DocumentSigningRequest`` | ``DocumentSignature``: a detached CMS signature |
/// | `POST /v1/swap` | ``SwapRequest`` | the ``AgentReader`` of the different card once the current one left |
/// | `POST /v1/swap/cancel` | — | `{"cancelled": n}`: the origin's waits for a swap end with `cancelled` |
///
/// Errors are ``AgentError/response``: `{"error": {"code": …, "message": …}}` with a status that fits
/// (403 refused, 400 malformed, 404 no card, 408 a swap that did not come, 409 the card or the person said no,
/// 413 too long, 503 no pcscd).
///
/// ```swift
/// let agent = CardAgent(policy: configuration.policy,
///                       authenticator: CardAuthenticator(dialogs: Pinentry(program: configuration.pinentryProgram())))
/// let response = await agent.handle(AgentRequest(method: "POST", path: "/v1/authenticate", headers: headers, body: body))
/// ```
public struct CardAgent: Sendable {
    /// The admission rules.
    public let policy: AgentPolicy
    /// The authentication operation.
    public let authenticator: CardAuthenticator

    /// The protocol's version, the `1` of the paths.
    public static let protocolVersion = 1
    /// The most bytes a request's body may have (but `POST /v1/sign`'s).
    public static let maximumBodyLength = 16 * 1024
    /// The most bytes a document to sign may have (`POST /v1/sign`; its body carries them in base64).
    public static let maximumDocumentLength = 8 * 1024 * 1024

    /// The most bytes the body of a request to `path` may have: what the HTTP layer collects before it answers
    /// 413 itself.
    public static func bodyLimit(for path: String) -> Int {
        path == "/v1/sign" ? maximumDocumentLength / 3 * 4 + 4096 : maximumBodyLength
    }

    private let swaps = SwapWaits()

    /// An agent with its policy and card operation.
    public init(policy: AgentPolicy, authenticator: CardAuthenticator) {
        self.policy = policy
        self.authenticator = authenticator
    }

    /// Answers a request: refused by the policy, a preflight, or an operation whose answer carries the CORS
    /// headers of the checked origin.
    public func handle(_ request: AgentRequest) async -> AgentResponse {
        switch policy.admit(request) {
        case .answered(let response):
            return response
        case .proceed(let origin):
            let response: AgentResponse
            do throws(AgentError) {
                response = try await route(request, origin: origin)
            } catch {
                response = error.response
            }
            return policy.withCORS(response, for: origin)
        }
    }

    private static let operations = [
        "/v1/status": "GET", "/v1/cards": "GET", "/v1/authenticate": "POST", "/v1/sign": "POST", "/v1/swap": "POST",
        "/v1/swap/cancel": "POST",
    ]

    private func route(_ request: AgentRequest, origin: PortalOrigin) async throws(AgentError) -> AgentResponse {
        guard let method = Self.operations[request.path] else {
            throw AgentError(
                .notFound,
                "There is no operation at this path; the agent offers "
                    + Self.operations.keys.sorted().joined(separator: ", ") + ".",
                status: 404)
        }
        guard request.method == method else {
            throw AgentError(.methodNotAllowed, "This operation takes \(method) only.", status: 405)
        }
        guard request.body.count <= Self.bodyLimit(for: request.path) else {
            throw AgentError(
                .malformedRequest,
                "The request's body is longer than \(Self.bodyLimit(for: request.path)) bytes.", status: 413)
        }
        switch request.path {
        case "/v1/authenticate":
            let challenge: EvidenceChallenge = try Self.decode(
                request.body,
                hint: "a portal's challenge ({\"id\", \"nonce\", \"flow\", \"step\", \"expiresAt\"}); send the "
                    + "challenge the portal issued, unchanged")
            let evidence = try await authenticator.authenticate(challenge, for: origin)
            return AgentResponse(status: 200, json: evidence)
        case "/v1/cards":
            return AgentResponse(status: 200, json: ["readers": try await authenticator.readers()])
        case "/v1/sign":
            let signing: DocumentSigningRequest = try Self.decode(
                request.body, hint: "{\"document\": base64, \"name\": the document's name}")
            guard let document = Data(base64Encoded: signing.document), !document.isEmpty else {
                throw AgentError(
                    .malformedRequest, "The document is not standard base64 of at least one byte.", status: 400)
            }
            let name = signing.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...200).contains(name.count),
                !name.unicodeScalars.contains(where: {
                    $0.properties.isNoncharacterCodePoint || $0.value < 0x20 || $0.value == 0x7F
                })
            else {
                throw AgentError(
                    .malformedRequest,
                    "The document's name is 1 to 200 characters on one line: the dialog shows it to the person.",
                    status: 400)
            }
            let signature = try await authenticator.signDocument([UInt8](document), name: name, for: origin)
            return AgentResponse(status: 200, json: signature)
        case "/v1/swap":
            let swap: SwapRequest =
                request.body.isEmpty
                ? SwapRequest() : try Self.decode(request.body, hint: "{\"timeoutSeconds\": 1 to 600}")
            let seconds = swap.timeoutSeconds ?? 120
            guard (1...600).contains(seconds) else {
                throw AgentError(.malformedRequest, "timeoutSeconds is 1 to 600.", status: 400)
            }
            let reader = try await swaps.wait(for: origin) { () async throws(AgentError) -> AgentReader in
                try await authenticator.waitForSwap(timeout: .seconds(seconds))
            }
            return AgentResponse(status: 200, json: reader)
        case "/v1/swap/cancel":
            return AgentResponse(status: 200, json: ["cancelled": swaps.cancel(for: origin)])
        default:
            return AgentResponse(
                status: 200,
                json: Status(agent: "card-agent", protocol: Self.protocolVersion, origin: origin.description))
        }
    }

    private struct Status: Encodable {
        var agent: String
        var `protocol`: Int
        var origin: String
    }

    static func decode<T: Decodable>(_ body: [UInt8], hint: String) throws(AgentError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw AgentError(.malformedRequest, "The body is not \(hint).", status: 400)
        }
    }
}

/// The waits for a card swap in progress, by origin, so that the page that started one can cancel it.
final class SwapWaits: Sendable {
    private let waits = Mutex<[PortalOrigin: [UUID: Task<AgentReader, any Error>]]>([:])

    /// Runs `body` as a task of its own that ``cancel(for:)`` can cancel.
    func wait(for origin: PortalOrigin, _ body: @escaping @Sendable () async throws(AgentError) -> AgentReader)
        async throws(AgentError) -> AgentReader
    {
        let id = UUID()
        let task = Task { () async throws -> AgentReader in try await body() }
        waits.withLock { $0[origin, default: [:]][id] = task }
        defer { waits.withLock { _ = $0[origin]?.removeValue(forKey: id) } }
        do {
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.cancelled, "The wait for the card swap was cancelled.")
        }
    }

    /// Cancels the origin's waits; returns how many there were.
    func cancel(for origin: PortalOrigin) -> Int {
        let tasks = waits.withLock { Array(($0[origin] ?? [:]).values) }
        for task in tasks { task.cancel() }
        return tasks.count
    }
}
