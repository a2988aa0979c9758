public import CardCredentials
public import Foundation
public import ISO7816

/// Everything that can go wrong when a program uses a My Number card through this module.
///
/// Each case names what happened; ``description`` is one sentence that says what a person should do next. No
/// case carries a PIN. Errors of the signature check that `CardKey` makes after the card signed stay
/// CardCredentials' own (`CardCredentialsError/cardSignatureInvalid`).
public enum JPKIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The card has no JPKI application (SELECT of its AID failed), or the application is not the My Number
    /// card's; `reason` says which.
    case notAMyNumberCard(reason: String)
    /// The card is the older Basic Resident Register card (住民基本台帳カード, token label `JPKIAPICCTOKEN`), whose
    /// certificates are no longer issued.
    case basicResidentRegisterCard
    /// The PIN had the wrong form (length or characters); nothing was sent to the card.
    case pinFormat(JPKIPIN, PINFormatProblem)
    /// The card refused the PIN; `triesLeft` more wrong tries are allowed before it is blocked.
    case wrongPIN(JPKIPIN, triesLeft: Int)
    /// The PIN is blocked (閉塞).
    case pinBlocked(JPKIPIN)
    /// Only one try was left and the caller did not allow spending it; the PIN was not sent.
    case lastTryRefused(JPKIPIN)
    /// The card wants the PIN verified before this operation (`69 82`).
    case pinNotVerified(JPKIPIN)
    /// The card refused the new value of a PIN (`6A 80` or `67 00` to CHANGE REFERENCE DATA) although it has the
    /// PIN's form; the PIN is unchanged.
    case newPINRefused(JPKIPIN)
    /// The card left the reader during the operation.
    case cardRemoved
    /// Something reset the card during the operation; the selected application and verified PINs are gone.
    case cardReset
    /// The card or reader cannot be reached (`failure` says how).
    case cardUnavailable(CardTransportFailure)
    /// The card answered something that is not what the protocol allows (a damaged or truncated answer).
    case malformedAnswer(String)
    /// The card answered a command with a status word the operation cannot accept.
    case unexpectedStatus(StatusWord, operation: String)
    /// The bytes read from a certificate EF are not an X.509 certificate.
    case malformedCertificate(JPKICertificateKind, reason: String)
    /// The text-input-support application's files could not be read as the card defines them.
    case malformedTextInputSupportData(String)
    /// The certificate expired (有効期限切れ) on `notAfter`.
    case certificateExpired(notAfter: Date, subject: String)
    /// The certificate is not valid until `notBefore`.
    case certificateNotYetValid(notBefore: Date, subject: String)
    /// The certificate was revoked (失効) on `date`.
    case certificateRevoked(reason: RevocationReason?, date: Date, subject: String)
    /// The certificate failed another validation rule (no chain to the trust anchors, key usage, revocation list
    /// unavailable or stale); the result names the rule.
    case certificateRejected(ValidationResult)

    /// One sentence: what happened and what to do next.
    public var description: String {
        switch self {
        case .notAMyNumberCard(let reason):
            return "The card is not a My Number card (\(reason)); insert the My Number card (マイナンバーカード) and try again."
        case .basicResidentRegisterCard:
            return
                "The card is a Basic Resident Register card (住民基本台帳カード), whose certificates are no longer "
                + "issued; use a My Number card (マイナンバーカード) instead."
        case .pinFormat(let pin, let problem):
            return "\(Self.capitalized(pin.description)) was not sent to the card: \(problem); enter it again."
        case .wrongPIN(let pin, let triesLeft):
            let tries = triesLeft == 1 ? "1 try is" : "\(triesLeft) tries are"
            return
                "The card refused \(pin): \(tries) left before it is blocked (閉塞); check the PIN you set when the "
                + "card was issued and enter it again."
        case .pinBlocked(let pin):
            return
                "\(Self.capitalized(pin.description)) is blocked (閉塞) after too many wrong tries; take the card "
                + "to your municipality office (市区町村窓口) to have it reset, then try again."
        case .lastTryRefused(let pin):
            return
                "Only one try is left for \(pin), so it was not sent; make sure of the PIN, then try again "
                + "allowing the last try (a wrong PIN then blocks it (閉塞))."
        case .pinNotVerified(let pin):
            return "The card needs \(pin) first; enter the PIN and try again."
        case .newPINRefused(let pin):
            return
                "The card refused the new value of \(pin), which stays unchanged; choose another that follows its "
                + "rules and try again."
        case .cardRemoved:
            return "The card was removed from the reader; insert it again and retry."
        case .cardReset:
            return "The card was reset by another program during the operation; retry (PINs must be entered again)."
        case .cardUnavailable(let failure):
            return "The card cannot be reached (\(Self.phrase(failure))); check the reader and the card, then retry."
        case .malformedAnswer(let reason):
            return "The card's answer is damaged (\(reason)); check the card sits well in the reader and retry."
        case .unexpectedStatus(let statusWord, let operation):
            return
                "The card refused \(operation) with \(statusWord.hexString) (\(statusWord.meaning)); check that it "
                + "is a My Number card and retry."
        case .malformedCertificate(let kind, let reason):
            return "\(Self.capitalized(kind.description)) on the card could not be read (\(reason)); retry, and "
                + "if it fails again the card needs checking at the municipality office (市区町村窓口)."
        case .malformedTextInputSupportData(let reason):
            return "The text-input-support data (券面事項入力補助) could not be read (\(reason)); retry, and if it "
                + "fails again the card needs checking at the municipality office (市区町村窓口)."
        case .certificateExpired(let notAfter, let subject):
            return
                "The certificate \(subject) expired (有効期限切れ) on \(Self.japanDate(notAfter)); "
                + "renew it at the municipality office (市区町村窓口)."
        case .certificateNotYetValid(let notBefore, let subject):
            return
                "The certificate \(subject) is not valid until \(Self.japanDate(notBefore)); use it "
                + "from that date or check the computer's clock."
        case .certificateRevoked(let reason, let date, let subject):
            let why = reason.map { " (\($0))" } ?? ""
            return
                "The certificate \(subject) was revoked (失効) on \(Self.japanDate(date))\(why); "
                + "have a new one issued at the municipality office (市区町村窓口)."
        case .certificateRejected(let result):
            return result.description
        }
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
    static func from(_ error: any Error, pin: JPKIPIN? = nil) -> any Error {
        if error is JPKIError { return error }
        if let failure = error.cardTransportFailure {
            switch failure {
            case .cardRemoved: return JPKIError.cardRemoved
            case .cardReset: return JPKIError.cardReset
            default: return JPKIError.cardUnavailable(failure)
            }
        }
        if let error = error as? CardCredentialsError, let pin {
            switch error {
            case .pinFormat(let problem): return JPKIError.pinFormat(pin, problem)
            case .wrongPIN(let triesLeft): return JPKIError.wrongPIN(pin, triesLeft: triesLeft)
            case .pinBlocked: return JPKIError.pinBlocked(pin)
            case .lastTryRefused: return JPKIError.lastTryRefused(pin)
            case .unexpectedCardStatus(let statusWord, let operation):
                return JPKIError.unexpectedStatus(statusWord, operation: operation)
            default: return error
            }
        }
        if let error = error as? ISO7816Error {
            switch error {
            case .malformedResponse(let reason): return JPKIError.malformedAnswer(reason)
            case .unexpectedStatus(let statusWord, let operation):
                return JPKIError.unexpectedStatus(statusWord, operation: operation)
            case .tooManyGetResponses, .repeatedWrongLength:
                return JPKIError.malformedAnswer(error.description)
            default: return error
            }
        }
        return error
    }
}
