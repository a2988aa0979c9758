/// Why the card agent refused or could not answer a request: a code to switch over, the HTTP status the answer
/// carries, and a sentence that says what happened and what to do next.
///
/// The codes are values of an extensible ``Code-swift.struct`` (as swift-certificates' errors and
/// `EvidenceError`): a release that adds a code breaks no caller's `switch`. The answer's JSON form is
///
/// ```json
/// {"error": {"code": "wrongPIN", "message": "The card refused …", "triesLeft": 2}}
/// ```
///
/// No error carries a PIN: a sentence never quotes what a PIN dialog program answered to `GETPIN`.
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of refusal or failure.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// The code's name (`originNotAllowed`), as the JSON answer carries it.
        public let rawValue: String
        /// A code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { rawValue }

        // Admission (403).
        /// The connection comes from a program of another user of this computer (``AgentPolicy/owner``).
        public static let otherUser = Code(rawValue: "otherUser")
        /// The `Host` header is missing, repeated, or not one of the agent's own loopback names with its port
        /// (a page reached the agent through a DNS name that resolves to the loopback address: DNS rebinding).
        public static let hostNotAllowed = Code(rawValue: "hostNotAllowed")
        /// The request has no `Origin` header (or more than one): the agent answers only pages of origins it knows.
        public static let originMissing = Code(rawValue: "originMissing")
        /// The `Origin` header is not an origin as a browser writes it (`null`, a path, a trailing slash, …).
        public static let originMalformed = Code(rawValue: "originMalformed")
        /// The origin is not on the agent's allow-list.
        public static let originNotAllowed = Code(rawValue: "originNotAllowed")
        /// A CORS preflight asked for a method or header the agent does not accept.
        public static let preflightRefused = Code(rawValue: "preflightRefused")

        // Requests.
        /// No operation at this path (404).
        public static let notFound = Code(rawValue: "notFound")
        /// The path exists but not with this method (405).
        public static let methodNotAllowed = Code(rawValue: "methodNotAllowed")
        /// The request's body is not the JSON the operation expects (400).
        public static let malformedRequest = Code(rawValue: "malformedRequest")

        // Cards.
        /// No reader holds a card the operation can use.
        public static let noCard = Code(rawValue: "noCard")
        /// The card left the reader during the operation.
        public static let cardRemoved = Code(rawValue: "cardRemoved")
        /// The reader was unplugged (or vanished) during the operation.
        public static let readerGone = Code(rawValue: "readerGone")
        /// The PC/SC service (pcscd) cannot be reached.
        public static let pcscUnavailable = Code(rawValue: "pcscUnavailable")
        /// The card refused the PIN; ``AgentError/triesLeft`` more wrong tries are allowed before it is blocked.
        public static let wrongPIN = Code(rawValue: "wrongPIN")
        /// The PIN is blocked (閉塞); no dialog was shown.
        public static let pinBlocked = Code(rawValue: "pinBlocked")
        /// Only one try was left and the person did not confirm spending it; nothing was sent to the card.
        public static let lastTryRefused = Code(rawValue: "lastTryRefused")
        /// The card failed in a way none of the other codes describes.
        public static let cardFailure = Code(rawValue: "cardFailure")

        // The person and the dialog.
        /// The person cancelled the dialog (or declined consent).
        public static let cancelled = Code(rawValue: "cancelled")
        /// The dialog timed out before the person answered.
        public static let timeout = Code(rawValue: "timeout")
        /// The PIN dialog program could not be started, died, or broke the Assuan protocol.
        public static let pinentryFailed = Code(rawValue: "pinentryFailed")
        /// The PIN typed three times did not have the card's form; nothing was sent to the card.
        public static let pinFormat = Code(rawValue: "pinFormat")

        // The agent.
        /// The signature could not be made from the challenge (a malformed challenge, a certificate that does not
        /// encode).
        public static let evidenceFailed = Code(rawValue: "evidenceFailed")
    }

    /// The kind of refusal or failure.
    public let code: Code
    /// One or more English sentences: what happened, and what to do next.
    public let description: String
    /// The HTTP status of the answer that carries the error.
    public let status: Int
    /// How many more wrong tries the PIN allows, for ``Code-swift.struct/wrongPIN``.
    public let triesLeft: Int?

    /// An error with its code, sentence and HTTP status (409 by default: the request was valid, the card or the
    /// person said no).
    public init(_ code: Code, _ description: String, status: Int = 409, triesLeft: Int? = nil) {
        self.code = code
        self.description = description
        self.status = status
        self.triesLeft = triesLeft
    }

    /// The answer that carries the error: its ``status``, `Content-Type: application/json`, and the body
    /// `{"error": {"code": …, "message": …, "triesLeft": …}}` (`triesLeft` only for a wrong PIN).
    public var response: AgentResponse {
        AgentResponse(
            status: status, json: Body(error: .init(code: code.rawValue, message: description, triesLeft: triesLeft)))
    }

    private struct Body: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
            var triesLeft: Int?
        }
        var error: Inner
    }
}
