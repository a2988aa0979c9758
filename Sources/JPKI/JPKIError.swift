public import CardCredentials
public import Foundation
public import ISO7816

/// Everything that can go wrong when a program uses a My Number card through this module.
///
/// A struct with an extensible ``Code-swift.struct`` (as swift-certificates' errors): a code that a later
/// release adds breaks no caller's `switch`. The values that a caller acts on travel with the error: the ``pin``
/// concerned, the ``triesLeft`` after a wrong PIN, the card's ``statusWord``, the link ``failure``, the
/// ``validationResult`` of a rejected certificate.
///
/// ```swift
/// do { try await card.verifyPIN(pin, for: .signing) }
/// catch let error where error.code == .wrongPIN { print("\(error.triesLeft ?? 0) tries left") }
/// ```
///
/// Every operation of ``MyNumberCard`` throws only this type (`throws(JPKIError)`), except the signature check
/// that a `CardKey` makes after the card signed, whose error stays CardCredentials' own
/// (`CardCredentialsError/cardSignatureInvalid`). ``description`` is one sentence that says what a person should do
/// next. No error carries a PIN's value.
public struct JPKIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// The card has no JPKI application (SELECT of its AID failed), or the application is not the My Number
        /// card's.
        public static let notAMyNumberCard = Code(name: "notAMyNumberCard")
        /// The card is the older Basic Resident Register card (住民基本台帳カード, token label `JPKIAPICCTOKEN`),
        /// whose certificates are no longer issued.
        public static let basicResidentRegisterCard = Code(name: "basicResidentRegisterCard")
        /// The PIN had the wrong form (length or characters); nothing was sent to the card.
        public static let pinFormat = Code(name: "pinFormat")
        /// The card refused the PIN; ``JPKIError/triesLeft`` more wrong tries are allowed before it is blocked.
        public static let wrongPIN = Code(name: "wrongPIN")
        /// The PIN is blocked (閉塞).
        public static let pinBlocked = Code(name: "pinBlocked")
        /// Only one try was left and the caller did not allow spending it; the PIN was not sent.
        public static let lastTryRefused = Code(name: "lastTryRefused")
        /// The card wants the PIN verified before this operation (`69 82`).
        public static let pinNotVerified = Code(name: "pinNotVerified")
        /// The card refused the new value of a PIN (`6A 80` or `67 00` to CHANGE REFERENCE DATA) although it has
        /// the PIN's form; the PIN is unchanged.
        public static let newPINRefused = Code(name: "newPINRefused")
        /// The card left the reader during the operation.
        public static let cardRemoved = Code(name: "cardRemoved")
        /// Something reset the card during the operation; the selected application and verified PINs are gone.
        public static let cardReset = Code(name: "cardReset")
        /// The card or reader cannot be reached (``JPKIError/failure`` says how).
        public static let cardUnavailable = Code(name: "cardUnavailable")
        /// The card answered something that is not what the protocol allows (a damaged or truncated answer).
        public static let malformedAnswer = Code(name: "malformedAnswer")
        /// The card answered a command with a status word (``JPKIError/statusWord``) the operation cannot accept.
        public static let unexpectedStatus = Code(name: "unexpectedStatus")
        /// The bytes read from a certificate EF (``JPKIError/certificateKind``) are not an X.509 certificate.
        public static let malformedCertificate = Code(name: "malformedCertificate")
        /// The text-input-support application's files could not be read as the card defines them.
        public static let malformedTextInputSupportData = Code(name: "malformedTextInputSupportData")
        /// The certificate expired (有効期限切れ).
        public static let certificateExpired = Code(name: "certificateExpired")
        /// The certificate is not valid yet.
        public static let certificateNotYetValid = Code(name: "certificateNotYetValid")
        /// The certificate was revoked (失効).
        public static let certificateRevoked = Code(name: "certificateRevoked")
        /// The certificate failed another validation rule (no chain to the trust anchors, key usage, revocation
        /// list unavailable or stale); ``JPKIError/validationResult`` names the rule.
        public static let certificateRejected = Code(name: "certificateRejected")
        /// The task was cancelled before the operation reached the card.
        public static let cancelled = Code(name: "cancelled")
        /// A failure of a lower layer that none of the other codes describes (its text is in the description).
        public static let other = Code(name: "other")

        /// The code's name (`wrongPIN`).
        public var description: String { name }
    }

    /// The kind of failure.
    public let code: Code
    /// The PIN concerned (never its value), for the PIN codes.
    public let pin: JPKIPIN?
    /// How many more wrong tries the PIN allows, for ``Code-swift.struct/wrongPIN``.
    public let triesLeft: Int?
    /// The card's status word, for ``Code-swift.struct/unexpectedStatus``.
    public let statusWord: StatusWord?
    /// How the link failed, for ``Code-swift.struct/cardUnavailable`` (and the removed or reset card).
    public let failure: CardTransportFailure?
    /// Which certificate, for ``Code-swift.struct/malformedCertificate``.
    public let certificateKind: JPKICertificateKind?
    /// The validator's answer, for the certificate codes.
    public let validationResult: ValidationResult?
    /// What is wrong with the PIN's form, for ``Code-swift.struct/pinFormat``.
    public let formatProblem: PINFormatProblem?
    /// The sentence of ``description``.
    let message: String

    /// An error of a code; the factory methods (``wrongPIN(_:triesLeft:)``, ``cardRemoved``, …) fill in the
    /// values and the sentence.
    init(
        _ code: Code, _ message: String, pin: JPKIPIN? = nil, triesLeft: Int? = nil, statusWord: StatusWord? = nil,
        failure: CardTransportFailure? = nil, certificateKind: JPKICertificateKind? = nil,
        validationResult: ValidationResult? = nil, formatProblem: PINFormatProblem? = nil
    ) {
        self.code = code
        self.message = message
        self.pin = pin
        self.triesLeft = triesLeft
        self.statusWord = statusWord
        self.failure = failure
        self.certificateKind = certificateKind
        self.validationResult = validationResult
        self.formatProblem = formatProblem
    }

    /// One sentence: what happened and what to do next.
    public var description: String { message }

    // MARK: - The errors

    /// The card is not a My Number card; `reason` says why.
    public static func notAMyNumberCard(reason: String) -> JPKIError {
        JPKIError(
            .notAMyNumberCard,
            "The card is not a My Number card (\(reason)); insert the My Number card (マイナンバーカード) and try again.")
    }

    /// The card is a Basic Resident Register card.
    public static let basicResidentRegisterCard = JPKIError(
        .basicResidentRegisterCard,
        "The card is a Basic Resident Register card (住民基本台帳カード), whose certificates are no longer "
            + "issued; use a My Number card (マイナンバーカード) instead.")

    /// `pin` had the wrong form; nothing was sent.
    public static func pinFormat(_ pin: JPKIPIN, _ problem: PINFormatProblem) -> JPKIError {
        JPKIError(
            .pinFormat, "\(capitalized(pin.description)) was not sent to the card: \(problem); enter it again.",
            pin: pin, formatProblem: problem)
    }

    /// The card refused `pin`.
    public static func wrongPIN(_ pin: JPKIPIN, triesLeft: Int) -> JPKIError {
        let tries = triesLeft == 1 ? "1 try is" : "\(triesLeft) tries are"
        return JPKIError(
            .wrongPIN,
            "The card refused \(pin): \(tries) left before it is blocked (閉塞); check the PIN you set when the "
                + "card was issued and enter it again.",
            pin: pin, triesLeft: triesLeft)
    }

    /// `pin` is blocked.
    public static func pinBlocked(_ pin: JPKIPIN) -> JPKIError {
        JPKIError(
            .pinBlocked,
            "\(capitalized(pin.description)) is blocked (閉塞) after too many wrong tries; take the card "
                + "to your municipality office (市区町村窓口) to have it reset, then try again.",
            pin: pin)
    }

    /// The last try of `pin` was not spent.
    public static func lastTryRefused(_ pin: JPKIPIN) -> JPKIError {
        JPKIError(
            .lastTryRefused,
            "Only one try is left for \(pin), so it was not sent; make sure of the PIN, then try again "
                + "allowing the last try (a wrong PIN then blocks it (閉塞)).",
            pin: pin)
    }

    /// The card wants `pin` first.
    public static func pinNotVerified(_ pin: JPKIPIN) -> JPKIError {
        JPKIError(.pinNotVerified, "The card needs \(pin) first; enter the PIN and try again.", pin: pin)
    }

    /// The card refused the new value of `pin`.
    public static func newPINRefused(_ pin: JPKIPIN) -> JPKIError {
        JPKIError(
            .newPINRefused,
            "The card refused the new value of \(pin), which stays unchanged; choose another that follows its "
                + "rules and try again.",
            pin: pin)
    }

    /// The card was removed.
    public static let cardRemoved = JPKIError(
        .cardRemoved, "The card was removed from the reader; insert it again and retry.", failure: .cardRemoved)

    /// The card was reset.
    public static let cardReset = JPKIError(
        .cardReset, "The card was reset by another program during the operation; retry (PINs must be entered again).",
        failure: .cardReset)

    /// The card or reader cannot be reached.
    public static func cardUnavailable(_ failure: CardTransportFailure) -> JPKIError {
        JPKIError(
            .cardUnavailable,
            "The card cannot be reached (\(phrase(failure))); check the reader and the card, then retry.",
            failure: failure)
    }

    /// The card's answer is damaged.
    public static func malformedAnswer(_ reason: String) -> JPKIError {
        JPKIError(
            .malformedAnswer,
            "The card's answer is damaged (\(reason)); check the card sits well in the reader and retry.")
    }

    /// The card refused `operation` with `statusWord`.
    public static func unexpectedStatus(_ statusWord: StatusWord, operation: String) -> JPKIError {
        JPKIError(
            .unexpectedStatus,
            "The card refused \(operation) with \(statusWord.hexString) (\(statusWord.meaning)); check that it "
                + "is a My Number card and retry.",
            statusWord: statusWord)
    }

    /// A certificate EF does not hold a certificate.
    public static func malformedCertificate(_ kind: JPKICertificateKind, reason: String) -> JPKIError {
        JPKIError(
            .malformedCertificate,
            "\(capitalized(kind.description)) on the card could not be read (\(reason)); retry, and "
                + "if it fails again the card needs checking at the municipality office (市区町村窓口).",
            certificateKind: kind)
    }

    /// The text-input-support files could not be read.
    public static func malformedTextInputSupportData(_ reason: String) -> JPKIError {
        JPKIError(
            .malformedTextInputSupportData,
            "The text-input-support data (券面事項入力補助) could not be read (\(reason)); retry, and if it "
                + "fails again the card needs checking at the municipality office (市区町村窓口).")
    }

    /// The certificate expired on `notAfter`.
    public static func certificateExpired(notAfter: Date, subject: String) -> JPKIError {
        JPKIError(
            .certificateExpired,
            "The certificate \(subject) expired (有効期限切れ) on \(japanDate(notAfter)); "
                + "renew it at the municipality office (市区町村窓口).",
            validationResult: .expired(notAfter: notAfter, subject: subject))
    }

    /// The certificate is not valid until `notBefore`.
    public static func certificateNotYetValid(notBefore: Date, subject: String) -> JPKIError {
        JPKIError(
            .certificateNotYetValid,
            "The certificate \(subject) is not valid until \(japanDate(notBefore)); use it "
                + "from that date or check the computer's clock.",
            validationResult: .notYetValid(notBefore: notBefore, subject: subject))
    }

    /// The certificate was revoked on `date`.
    public static func certificateRevoked(reason: RevocationReason?, date: Date, subject: String) -> JPKIError {
        let why = reason.map { " (\($0))" } ?? ""
        return JPKIError(
            .certificateRevoked,
            "The certificate \(subject) was revoked (失効) on \(japanDate(date))\(why); "
                + "have a new one issued at the municipality office (市区町村窓口).",
            validationResult: .revoked(reason: reason, date: date, subject: subject))
    }

    /// The certificate failed another validation rule.
    public static func certificateRejected(_ result: ValidationResult) -> JPKIError {
        JPKIError(.certificateRejected, result.description, validationResult: result)
    }

    /// The task was cancelled.
    public static let cancelled = JPKIError(
        .cancelled, "The operation was cancelled before it reached the card; nothing was sent.")

    /// A lower layer's failure that no other code describes.
    static func other(_ error: any Error) -> JPKIError {
        JPKIError(.other, "The card operation failed: \(error)")
    }

    /// A date as the manuals print it (`YYYY/MM/DD`, Japan time).
    static func japanDate(_ date: Date) -> String {
        CertificateSummary.japanDate(date)
    }

    private static func capitalized(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst()
    }

    private static func phrase(_ failure: CardTransportFailure) -> String {
        switch failure {
        case .cardRemoved: "the card was removed"
        case .cardReset: "the card was reset"
        case .cardUnresponsive: "the card does not answer"
        case .readerUnavailable: "the reader is gone"
        case .serviceUnavailable: "the smart card service (pcscd) is not running"
        case .sharingViolation: "another program holds the card"
        case .other: "the link failed"
        }
    }

    /// The JPKI error for an error of a lower layer, naming `pin` where the error is about a PIN.
    static func from(_ error: any Error, pin: JPKIPIN? = nil) -> JPKIError {
        if let error = error as? JPKIError { return error }
        if error is CancellationError { return .cancelled }
        if let failure = error.cardTransportFailure {
            switch failure {
            case .cardRemoved: return .cardRemoved
            case .cardReset: return .cardReset
            default: return .cardUnavailable(failure)
            }
        }
        if let error = error as? CardCredentialsError {
            switch error {
            case .pinFormat(let problem) where pin != nil: return .pinFormat(pin!, problem)
            case .wrongPIN(let triesLeft) where pin != nil: return .wrongPIN(pin!, triesLeft: triesLeft)
            case .pinBlocked where pin != nil: return .pinBlocked(pin!)
            case .lastTryRefused where pin != nil: return .lastTryRefused(pin!)
            case .unexpectedCardStatus(let statusWord, let operation):
                return .unexpectedStatus(statusWord, operation: operation)
            default: return .other(error)
            }
        }
        if let error = error as? ISO7816Error {
            switch error {
            case .malformedResponse(let reason): return .malformedAnswer(reason)
            case .unexpectedStatus(let statusWord, let operation):
                return .unexpectedStatus(statusWord, operation: operation)
            case .tooManyGetResponses, .repeatedWrongLength:
                return .malformedAnswer(error.description)
            default: return .other(error)
            }
        }
        return .other(error)
    }
}
