/// A refusal as the portal's server wrote it: an RFC 9457 problem document (`application/problem+json`).
///
/// ``rule`` is what a program switches on: the name of the rule that refused (`certificateNotActive`,
/// `companyNameMismatch`, `notAtStep`, `foreignOrigin`, `noSession`, `rateLimited`, …; the server's OpenAPI
/// document lists them). ``detail`` is the sentence to show a person: what happened and what to do next.
public struct PortalProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `urn:procurement-identity:problem:<rule>`.
    public var type: String
    /// A short title, often Japanese (`この電子証明書では手続できません`).
    public var title: String
    /// The HTTP status.
    public var status: Int
    /// What happened and what to do next.
    public var detail: String
    /// The rule that refused.
    public var rule: String
    /// The input field (or header) to blame, when one is.
    public var field: String?
    /// Seconds to wait before trying again (`Retry-After`), when the server said so (a rate limit).
    public var retryAfter: Int?

    /// A problem from its parts.
    public init(
        type: String, title: String, status: Int, detail: String, rule: String, field: String? = nil,
        retryAfter: Int? = nil
    ) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.rule = rule
        self.field = field
        self.retryAfter = retryAfter
    }

    /// `status rule: detail`.
    public var description: String { "\(status) \(rule): \(detail)" }
}

/// Why a request to the portal failed: the server refused it (``problem`` says why), could not be reached, or
/// answered something the client does not understand.
///
/// The codes are values of an extensible ``Code-swift.struct``, so a release that adds one breaks no `switch`.
/// A refusal's rule is ``rule``:
///
/// ```swift
/// do {
///     _ = try await renewal.presentNewCard(with: newCard)
/// } catch let error as PortalClientError where error.rule == "companyNameMismatch" {
///     print(error.problem?.detail ?? "")
/// }
/// ```
///
/// An ``EvidenceSigner``'s own errors (a wrong PIN, no card) are not wrapped: they reach the caller as the signer
/// threw them. No error carries a PIN, a cookie or a signature.
public struct PortalClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// The code's name (`refused`).
        public let rawValue: String
        /// A code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { rawValue }

        /// The server refused the request with a problem document (``PortalClientError/problem``).
        public static let refused = Code(rawValue: "refused")
        /// The server could not be reached, or the connection broke.
        public static let unreachable = Code(rawValue: "unreachable")
        /// The server answered something that is not the API's: another status, another media type, JSON of
        /// another form, a challenge for another flow or step than the one asked for.
        public static let unexpectedAnswer = Code(rawValue: "unexpectedAnswer")
        /// A request needs a session and the client has none: log in first.
        public static let notLoggedIn = Code(rawValue: "notLoggedIn")
        /// The caller stopped the flow (a review that threw); the flow was sent back (戻る) where possible.
        public static let cancelled = Code(rawValue: "cancelled")
    }

    /// What kind of failure.
    public let code: Code
    /// The server's problem document, for ``Code-swift.struct/refused``.
    public let problem: PortalProblem?
    /// One or more English sentences: what happened.
    public let description: String

    /// An error with its code and sentence, and the problem document when the server sent one.
    public init(_ code: Code, _ description: String, problem: PortalProblem? = nil) {
        self.code = code
        self.description = description
        self.problem = problem
    }

    /// A refusal by the server.
    public static func refused(_ problem: PortalProblem) -> PortalClientError {
        PortalClientError(.refused, "The portal refused the request: \(problem)", problem: problem)
    }

    /// The rule that refused (the problem document's `rule`), or nil when the server did not refuse.
    public var rule: String? { problem?.rule }

    /// The HTTP status of the refusal, or nil when the server did not refuse.
    public var status: Int? { problem?.status }
}
