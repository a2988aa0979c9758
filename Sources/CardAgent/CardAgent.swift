import CardCredentials
import Foundation

/// The card agent without its server: an HTTP layer hands it each request (method, path, headers, body) and
/// sends back the ``AgentResponse`` — status, headers and a JSON body.
///
/// Every request passes ``AgentPolicy`` first (Host, Origin, CORS preflight). The operations:
///
/// | method and path | body | answer |
/// |---|---|---|
/// | `GET /v1/status` | — | `{"agent": "card-agent", "protocol": 1, "origin": "<the checked origin>"}` |
/// | `POST /v1/authenticate` | the portal's challenge (`EvidenceChallenge`'s JSON) | the evidence (`CardEvidence`'s JSON) |
///
/// Errors are ``AgentError/response``: `{"error": {"code": …, "message": …}}` with a status that fits
/// (403 refused, 400 malformed, 404 no card, 409 the card or the person said no, 503 no pcscd).
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
    /// The most bytes a request's body may have.
    public static let maximumBodyLength = 16 * 1024

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

    private func route(_ request: AgentRequest, origin: PortalOrigin) async throws(AgentError) -> AgentResponse {
        let operations = ["/v1/status": "GET", "/v1/authenticate": "POST"]
        guard let method = operations[request.path] else {
            throw AgentError(
                .notFound, "There is no operation at this path; the agent offers /v1/status and /v1/authenticate.",
                status: 404)
        }
        guard request.method == method else {
            throw AgentError(.methodNotAllowed, "This operation takes \(method) only.", status: 405)
        }
        switch request.path {
        case "/v1/authenticate":
            let challenge = try Self.decodeChallenge(request.body)
            let evidence = try await authenticator.authenticate(challenge, for: origin)
            return AgentResponse(status: 200, json: evidence)
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

    static func decodeChallenge(_ body: [UInt8]) throws(AgentError) -> EvidenceChallenge {
        guard body.count <= maximumBodyLength else {
            throw AgentError(
                .malformedRequest, "The request's body is longer than \(maximumBodyLength) bytes.", status: 413)
        }
        do {
            return try JSONDecoder().decode(EvidenceChallenge.self, from: Data(body))
        } catch {
            throw AgentError(
                .malformedRequest,
                "The body is not a portal's challenge ({\"id\", \"nonce\", \"flow\", \"step\", \"expiresAt\"}); send "
                    + "the challenge the portal issued, unchanged.",
                status: 400)
        }
    }
}
