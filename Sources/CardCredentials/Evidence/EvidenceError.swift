/// Why card evidence (``CardEvidence``) or a challenge (``EvidenceChallenge``) was refused: a code to switch
/// over, and a sentence that says what happened and what to do next.
///
/// The codes are values of an extensible ``Code-swift.struct``, not enumeration cases: a release that adds a
/// code breaks no `switch`.
///
/// ```swift
/// do { _ = try await desk.verify(evidence, for: .login) }
/// catch let error where error.code == .challengeExpired { /* ask for a new challenge */ }
/// ```
///
/// No error carries a PIN, a signature or a nonce.
public struct EvidenceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// The code's name (`challengeExpired`).
        public let rawValue: String
        /// A code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { rawValue }

        /// An origin that is not written as a browser sends it.
        public static let malformedOrigin = Code(rawValue: "malformedOrigin")
        /// Evidence or a challenge whose fields are missing, too long or badly encoded.
        public static let malformedEvidence = Code(rawValue: "malformedEvidence")
        /// Evidence signed for another origin than this portal's.
        public static let foreignOrigin = Code(rawValue: "foreignOrigin")
        /// Evidence made for another flow or step than the one it was sent to (sent out of order).
        public static let wrongStep = Code(rawValue: "wrongStep")
        /// Evidence for a challenge the portal never issued, or one already used (a replay).
        public static let challengeUnknown = Code(rawValue: "challengeUnknown")
        /// Evidence for a challenge whose time ran out.
        public static let challengeExpired = Code(rawValue: "challengeExpired")
        /// Evidence for a challenge issued to another session or flow.
        public static let challengeNotYours = Code(rawValue: "challengeNotYours")
        /// A signature that the certificate's key did not make over these bytes.
        public static let signatureInvalid = Code(rawValue: "signatureInvalid")
        /// A signature algorithm this library does not verify.
        public static let unsupportedAlgorithm = Code(rawValue: "unsupportedAlgorithm")
        /// A certificate that does not chain to a trusted CA, expired, was revoked, or may not authenticate.
        public static let certificateUntrusted = Code(rawValue: "certificateUntrusted")
        /// The store of challenges failed; nothing was decided.
        public static let storeFailure = Code(rawValue: "storeFailure")
    }

    /// What kind of refusal.
    public let code: Code
    /// One or more English sentences: what happened, and what to do next.
    public let description: String

    /// An error with its code and sentence.
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
