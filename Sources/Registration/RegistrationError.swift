public import CardCredentials
public import Foundation

/// What can go wrong in the registration domain; each description says what to do next.
///
/// No case ever carries a PIN, a password or a private key.
public enum RegistrationError: Error, Sendable, Hashable, CustomStringConvertible {
    // MARK: Input

    /// A 法人番号 (corporate number) that is not 13 digits.
    case corporateNumberFormat(String)
    /// A 法人番号 whose check digit does not match its other 12 digits.
    case corporateNumberCheckDigit
    /// A field of the input screen is not valid; `field` is the manual's label (e.g. 郵便番号), `reason` says why.
    case invalidField(field: String, reason: String)

    // MARK: Rights

    /// The role may not make this kind of change (the rights matrix of the 調達ポータル manual).
    case notPermitted(role: Role, change: ChangeKind)
    /// An agent may change only its own user information and its own certificates.
    case notOwnRecord(change: ChangeKind)
    /// The acting user was deleted (利用者情報削除) and can do nothing any more.
    case userDeleted(UserID)
    /// The agent's electronic power of attorney (電子委任状) expired: it may only renew it or be deleted.
    case powerOfAttorneyExpired(validUntil: Date)
    /// The change is not one this registration can take (e.g. a second representative, deleting a representative).
    case changeNotAllowed(String)

    // MARK: Records

    /// No business is registered under this identifier.
    case businessNotFound(BusinessID)
    /// No user is registered under this identifier.
    case userNotFound(UserID)
    /// No certificate binding has this identifier.
    case bindingNotFound(BindingID)
    /// The certificate is already bound to a user (of this or another business).
    case certificateAlreadyBound(fingerprint: String)
    /// A business with this 法人番号 is registered already: there is one registration per business. The store
    /// enforces it, so of two registrations of one number made at once, one gets this error.
    case corporateNumberAlreadyRegistered(CorporateNumber)
    /// The company name (商号又は名称) in a certificate differs from the registered one.
    case companyNameMismatch(registered: String, certificate: String)

    // MARK: Input → confirmation → completion

    /// The registration changed after the confirmation screen was prepared; nothing was stored.
    case staleChange(BusinessID)
    /// The prepared change is older than its time limit; nothing was stored.
    case preparationExpired
    /// The prepared change is not known to this service (already committed, or never prepared).
    case preparationUnknown

    // MARK: Certificates and login

    /// The certificate is not registered to any user.
    case certificateNotRegistered
    /// The certificate is registered but its binding is no longer active (superseded, revoked or expired).
    case certificateNotActive(BindingStatus)
    /// The certificate did not pass validation (chain, validity period or revocation).
    case certificateUntrusted(String)
    /// Card evidence (a signature over a challenge) was refused; the error's code says why (unknown or used
    /// challenge, expired, foreign origin, wrong step, invalid signature, untrusted certificate).
    case evidenceRefused(EvidenceError)
    /// A stored flow (or session) was saved by another request or server since it was read, or removed.
    case flowChanged(String)

    // MARK: Storage

    /// The store failed (the database could not be opened, read or written); nothing was changed.
    case storeFailure(String)
    /// A stored row cannot be read back: its `table` lacks `column`, or the column holds a value of the wrong type
    /// or one that no longer passes its field's check. `reason` says which of these, never the value itself
    /// (rows hold personal data). Nothing was changed.
    case storeUnreadable(table: String, column: String, reason: String)

    // MARK: Delivery (outbox)

    /// No outbox message has this identifier.
    case outboxMessageNotFound(OutboxMessageID)

    /// The mail server refused the message; `code` is its SMTP reply code.
    case mailRejected(code: Int, message: String)
    /// The mail server could not be reached or the connection broke.
    case mailServerUnreachable(String)
    /// GEPS (政府電子調達システム) refused the hand-over; `status` is the HTTP status. A 2xx status here means GEPS
    /// took the hand-over but gave no reference: it is tried again with the same idempotency key.
    case gepsRejected(status: Int, message: String)
    /// GEPS could not be reached, or answered that it is unavailable for now.
    case gepsUnavailable(String)

    /// Whether a delivery that failed with this error should be tried again later (at-least-once delivery):
    /// a transient SMTP reply (4xx), an unreachable server, or GEPS unavailable, answering 5xx/408/429, or taking a
    /// hand-over without giving its reference (2xx).
    public var isRetryable: Bool {
        switch self {
        case .mailRejected(let code, _): (400..<500).contains(code)
        case .mailServerUnreachable, .gepsUnavailable: true
        case .gepsRejected(let status, _):
            status >= 500 || status == 429 || status == 408 || (200..<300).contains(status)
        default: false
        }
    }

    public var description: String {
        switch self {
        case .corporateNumberFormat(let reason):
            return "The corporate number (法人番号) is not valid: \(reason). Enter its 13 half-width digits."
        case .corporateNumberCheckDigit:
            return "The corporate number (法人番号) has a wrong check digit; check it against the 法人番号公表サイト "
                + "record of the business and enter it again."
        case .invalidField(let field, let reason):
            return "\(field) is not valid: \(reason). Correct it on the input screen and confirm again."
        case .notPermitted(let role, let change):
            let article = "\(role)".first.map { "aeiou".contains($0) } == true ? "An" : "A"
            return
                "\(article) \(role) may not change \(change); ask the representative (代表者) of the business to do it."
        case .notOwnRecord(let change):
            return "An agent (代理人) may change \(change) only on its own record; sign in as that user instead."
        case .userDeleted(let id):
            return "User \(id) was deleted (利用者情報削除) and can do nothing; register anew (新規登録) as a new user."
        case .powerOfAttorneyExpired(let until):
            return "The electronic power of attorney (電子委任状) expired on \(Self.day(until)); renew it "
                + "(電子委任状更新) or delete the agent before anything else."
        case .changeNotAllowed(let reason):
            return "This change is not allowed: \(reason)."
        case .businessNotFound(let id):
            return "No business is registered as \(id); list the registrations and use one of their identifiers."
        case .userNotFound(let id):
            return "No user is registered as \(id); list the business's users and use one of their identifiers."
        case .bindingNotFound(let id):
            return "No certificate binding \(id) exists; show the user to see its certificates."
        case .certificateAlreadyBound(let fingerprint):
            return "This certificate (SHA-256 \(fingerprint.prefix(16))…) is already registered to a user; "
                + "a new agent is registered as a new user with its own certificate."
        case .corporateNumberAlreadyRegistered(let number):
            return "A business with 法人番号 \(number) is registered already, and there is one registration per "
                + "business; nothing was stored. Sign in with that business's certificate, or ask its representative "
                + "(代表者) to add you as an agent (代理人)."
        case .companyNameMismatch(let registered, let certificate):
            return "The company name in the certificate (\(certificate)) is not the registered 商号又は名称 "
                + "(\(registered)); use a certificate issued to the registered business, or update the business "
                + "information first."
        case .staleChange(let id):
            return "Registration \(id) was changed by someone else after this confirmation screen was prepared; "
                + "nothing was stored. Start the change again from the input screen to review the new state."
        case .preparationExpired:
            return "The confirmation screen timed out; nothing was stored. Start the change again."
        case .preparationUnknown:
            return "This change is not waiting for confirmation (it was committed already, or never prepared); "
                + "start it again from the input screen."
        case .certificateNotRegistered:
            return "This certificate is not registered to any user; register it (電子証明書情報の追加) or use "
                + "the registered card."
        case .certificateNotActive(let status):
            return "This certificate can no longer log in: it is \(status). Use the current card or certificate; "
                + "if none works, use certificate update (電子証明書更新) or register anew."
        case .certificateUntrusted(let reason):
            return "The certificate is not trusted: \(reason)."
        case .evidenceRefused(let error):
            return "The card's signature was refused: \(error.description)."
        case .flowChanged(let id):
            return "The flow \(id) was continued elsewhere (another tab or server) or ended since it was read; "
                + "read its state again and continue from there."
        case .storeFailure(let reason):
            return "The registration store failed (\(reason)); nothing was changed. Check the database file and "
                + "try again."
        case .storeUnreadable(let table, let column, let reason):
            return "The registration store cannot read column \(column) of table \(table): \(reason); nothing was "
                + "changed. The database's schema or rows were changed outside this store: restore it from a backup."
        case .outboxMessageNotFound(let id):
            return "No outbox message \(id) exists; list the outbox to see its messages."
        case .mailRejected(let code, let message):
            return "The mail server refused the message (\(code) \(message))"
                + ((400..<500).contains(code) ? "; it will be tried again." : "; check the address and the server.")
        case .mailServerUnreachable(let reason):
            return "The mail server could not be reached (\(reason)); the mail stays in the outbox and is tried again."
        case .gepsRejected(let status, let message):
            return "GEPS (政府電子調達システム) refused the hand-over (HTTP \(status): \(message))"
                + (status >= 500 || status == 429 || status == 408
                    ? "; it will be tried again." : "; check the record and hand it over again.")
        case .gepsUnavailable(let reason):
            return "GEPS (政府電子調達システム) could not be reached (\(reason)); the hand-over stays in the outbox "
                + "and is tried again."
        }
    }

    static func day(_ date: Date) -> String { CertificateSummary.japanDate(date) }
}
