public import CardCredentials
public import Foundation
public import JPKI
public import Registration

/// Which card of a renewal an error is about: the card in use now, or the card that replaces it.
public enum RenewalCardRole: String, Sendable, Hashable, CustomStringConvertible {
    /// 現在使用しているICカード: the card registered now.
    case current
    /// 新規に使用するICカード: the card that replaces it.
    case new

    /// The heading the confirmation screen gives the card (seeds 000 and 001).
    public var japaneseLabel: String {
        switch self {
        case .current: "現在使用しているICカード"
        case .new: "新規に使用するICカード"
        }
    }

    /// `"the current IC card (現在使用しているICカード)"` or `"the new IC card (新規に使用するICカード)"`.
    public var description: String {
        switch self {
        case .current: "the current IC card (\(japaneseLabel))"
        case .new: "the new IC card (\(japaneseLabel))"
        }
    }
}

/// What can go wrong in a lifecycle flow: a ``code-swift.property`` to switch over, the values the refusal is
/// about, and a sentence (``description``) that says what the person should do next.
///
/// A flow that throws one of these stays at the step it was at unless the code says otherwise, so the front end
/// shows the message and lets the person try again, or go back (戻る). No error ever carries a PIN.
///
/// ## Switching over errors
///
/// The codes are values of an extensible ``Code-swift.struct`` (as swift-certificates' `CertificateError`), not
/// enumeration cases: a release that adds a code — a new flow, a new refusal of the manuals — breaks no `switch`
/// of an integrator. Switch over ``code-swift.property`` with a `default`, and read the values the code is about
/// from the typed properties (``triesLeft``, ``cardRole``, ``expectedStep``, ``registrationError``, …):
///
/// ```swift
/// do { try await renewal.confirm() }
/// catch {
///     switch error.code {
///     case .stepInProgress: break  // the previous press is still running
///     case .wrongPIN: showPINField(triesLeft: error.triesLeft ?? 0)
///     case .registration: log(error.registrationError)
///     default: show(error.description)
///     }
/// }
/// ```
///
/// or catch one code: `catch let error where error.code == .notAtStep { … }`. A code's ``Code-swift.struct/rawValue``
/// (`notAtStep`, `flowNotFound`, …) is stable, for logs and JSON problem documents.
///
/// The errors are made by the static members named as the codes (``stepInProgress``,
/// ``notAtStep(expected:current:)-(String,String)``, ``registration(_:)``, …), so `throw .stepInProgress` reads as before. Two
/// errors are equal when their codes and all their values are: `LifecycleError.wrongPIN(.current, triesLeft: 2)`
/// is not `.wrongPIN(.current, triesLeft: 1)`; compare ``code-swift.property`` to ask only which refusal it is.
///
/// ## Topics
///
/// ### The code
///
/// - ``code-swift.property``
/// - ``Code-swift.struct``
/// - ``requiresNewRegistration``
///
/// ### The values an error is about
///
/// - ``cardRole``
/// - ``reader``
/// - ``cardError``
/// - ``pinFormatProblem``
/// - ``triesLeft``
/// - ``bindingStatus``
/// - ``date``
/// - ``registeredCompanyName``
/// - ``cardCompanyName``
/// - ``field``
/// - ``currentValue``
/// - ``newValue``
/// - ``reason``
/// - ``expectedStep``
/// - ``currentStep``
/// - ``flowID``
/// - ``registrationError``
/// - ``registeredKind``
/// - ``jpkiError``
/// - ``certificateKind``
/// - ``paperProcedureReason``
/// - ``missingDocuments``
/// - ``attemptsLeft``
/// - ``isContractWide``
///
/// ### The reader
///
/// - ``noCardInserted(reader:)``
/// - ``cardNotRemoved(reader:)``
/// - ``cardRemoved(_:)``
/// - ``differentCardInserted(_:)``
/// - ``cardUnreadable(_:reason:)``
///
/// ### PINs
///
/// - ``pinFormat(_:_:)``
/// - ``wrongPIN(_:triesLeft:)``
/// - ``lastTryRefused(_:)``
/// - ``pinBlocked(_:)``
/// - ``cardKeyMismatch(_:)``
///
/// ### The current card: when IC card renewal is not available
///
/// - ``currentCardNotRegistered``
/// - ``currentCardNotActive(_:)``
/// - ``currentCardExpired(notAfter:)``
/// - ``currentCardRevoked(date:)``
///
/// ### The new card
///
/// - ``sameCard``
/// - ``newCardExpired(notAfter:)``
/// - ``newCardNotYetValid(notBefore:)``
/// - ``newCardRevoked(date:)``
/// - ``newCardAlreadyRegistered``
/// - ``companyNameMismatch(registered:card:)``
/// - ``holderMismatch(field:current:new:)``
/// - ``certificateUntrusted(_:reason:)``
///
/// ### The flow
///
/// - ``notAtStep(expected:current:)-(String,String)``
/// - ``stepInProgress``
/// - ``flowRestarted``
/// - ``cancelled``
/// - ``registrationChanged``
/// - ``confirmationExpired``
/// - ``registration(_:)``
/// - ``flowNotFound(_:)``
/// - ``flowExpired(_:)``
///
/// ### Certificate update, power-of-attorney renewal and agent deletion
///
/// - ``certificateNotRegistered``
/// - ``registeredCertificateNotActive(_:)``
/// - ``registeredCertificateRevoked(date:)``
/// - ``certificateTypeMismatch(registered:)``
/// - ``wrongFilePassword(_:)``
/// - ``fileUnreadable(_:reason:)``
/// - ``myNumberCard(_:)``
/// - ``jpkiConsentRequired``
/// - ``jpkiCertificateNotRenewed``
/// - ``jpkiDetailsChanged``
/// - ``jpkiLinkageUnavailable(reason:)``
/// - ``powerOfAttorneyStillValid(validUntil:)``
/// - ``notAnAgentWithPowerOfAttorney``
/// - ``agentCertificateNotActive(_:)``
/// - ``agentCardMismatch``
/// - ``powerOfAttorneyRequestFailed(reason:)``
/// - ``powerOfAttorneyMismatch(field:reason:)``
/// - ``powerOfAttorneyRequestInvalid(field:reason:)``
/// - ``deletionNotAcknowledged``
/// - ``agentCertificateInvalid(_:reason:)``
///
/// ### Revocation request
///
/// - ``paperProcedureRequired(_:)``
/// - ``alreadyRevoked(date:)``
/// - ``documentsNotOpened(missing:)``
/// - ``requestFormInvalid(field:problem:)``
/// - ``confirmationNotChecked``
/// - ``revocationAlreadySubmitted``
/// - ``revocationRefused(reason:)``
/// - ``revocationNotAnswered(reason:)``
///
/// ### Certificate reissue
///
/// - ``contractIDFormat``
/// - ``signInRejected(attemptsLeft:)``
/// - ``serviceLocked(contractWide:)``
/// - ``administratorCertificateRefused(_:)``
/// - ``notTheAdministrator``
/// - ``reissueUserNotFound``
/// - ``enrollmentCodeInvalid``
/// - ``enrollmentCodeExpired(expiredAt:)``
/// - ``certificateRequestRefused(reason:)``
/// - ``issuedCertificateMismatch(reason:)``
/// - ``certificateAuthorityUnavailable(reason:)``
/// - ``credentialNotCreated(reason:)``
/// - ``reissueStoreFailure(reason:)``
public struct LifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal: one constant per refusal of the flows; a later release may add constants.
    ///
    /// The ``rawValue`` is the constant's name (`stepInProgress`), stable across releases: log it, or send it as
    /// the rule of a problem document.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name (`notAtStep`).
        public let rawValue: String
        /// A code from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The name.
        public var description: String { rawValue }

        // MARK: The reader

        /// No card was inserted into the reader (``LifecycleError/reader``) before the wait ended.
        public static let noCardInserted = Code(rawValue: "noCardInserted")
        /// The card in the reader (``LifecycleError/reader``) was not taken out before the wait ended (the card
        /// swap of an IC card renewal).
        public static let cardNotRemoved = Code(rawValue: "cardNotRemoved")
        /// The card (``LifecycleError/cardRole``) left the reader during the step; nothing was changed.
        public static let cardRemoved = Code(rawValue: "cardRemoved")
        /// After the card (``LifecycleError/cardRole``) was pulled, another card came back in its place.
        public static let differentCardInserted = Code(rawValue: "differentCardInserted")
        /// The card could not be read: it is not an IC card this portal knows, the link failed, or its answer is
        /// damaged; ``LifecycleError/cardError`` is the card module's error.
        public static let cardUnreadable = Code(rawValue: "cardUnreadable")

        // MARK: PINs

        /// The PIN does not have the card's form (``LifecycleError/pinFormatProblem``); nothing was sent to the
        /// card and no try was spent.
        public static let pinFormat = Code(rawValue: "pinFormat")
        /// The card refused the PIN; ``LifecycleError/triesLeft`` more wrong tries are allowed before it is
        /// blocked (閉塞).
        public static let wrongPIN = Code(rawValue: "wrongPIN")
        /// Only one try is left and spending it was not allowed; the PIN was not sent.
        public static let lastTryRefused = Code(rawValue: "lastTryRefused")
        /// The card's PIN is blocked (閉塞). For the current card the renewal is not available (新規登録).
        public static let pinBlocked = Code(rawValue: "pinBlocked")
        /// The card accepted its PIN but its key did not sign for the certificate it carries.
        public static let cardKeyMismatch = Code(rawValue: "cardKeyMismatch")

        // MARK: The current card: when IC card renewal is not available

        /// The current card's certificate is not a certificate of this user in the registration.
        public static let currentCardNotRegistered = Code(rawValue: "currentCardNotRegistered")
        /// The current card's certificate is registered, but no longer active (``LifecycleError/bindingStatus``:
        /// superseded, removed, revoked).
        public static let currentCardNotActive = Code(rawValue: "currentCardNotActive")
        /// The current card expired (有効期限切れ) on ``LifecycleError/date``: renewal is not available; register
        /// anew (新規登録).
        public static let currentCardExpired = Code(rawValue: "currentCardExpired")
        /// The current card was revoked (失効, e.g. lost) on ``LifecycleError/date``: renewal is not available;
        /// register anew (新規登録).
        public static let currentCardRevoked = Code(rawValue: "currentCardRevoked")

        // MARK: The new card

        /// The card or file given as the new one holds the current certificate.
        public static let sameCard = Code(rawValue: "sameCard")
        /// The new certificate (of a new IC card, file or My Number card) expired (有効期限切れ) on
        /// ``LifecycleError/date``.
        public static let newCardExpired = Code(rawValue: "newCardExpired")
        /// The new card's certificate is not valid yet (until ``LifecycleError/date``).
        public static let newCardNotYetValid = Code(rawValue: "newCardNotYetValid")
        /// The new card's certificate was revoked (失効) on ``LifecycleError/date``.
        public static let newCardRevoked = Code(rawValue: "newCardRevoked")
        /// The new card's certificate is registered already (to this or another user).
        public static let newCardAlreadyRegistered = Code(rawValue: "newCardAlreadyRegistered")
        /// The new card's company name (ICカード業者名称, ``LifecycleError/cardCompanyName``) is not exactly the
        /// registered 商号又は名称 (``LifecycleError/registeredCompanyName``).
        public static let companyNameMismatch = Code(rawValue: "companyNameMismatch")
        /// The new card's holder differs from the current card's: ``LifecycleError/field`` is the screen's label
        /// (ICカード取得者氏名 or ICカード取得者所在地).
        public static let holderMismatch = Code(rawValue: "holderMismatch")

        // MARK: Either card

        /// The card's certificate did not pass validation for another reason (no chain to a trusted CA, a stale
        /// or missing revocation list); ``LifecycleError/reason`` is the validator's sentence.
        public static let certificateUntrusted = Code(rawValue: "certificateUntrusted")

        // MARK: The flow

        /// The call does not belong to the flow's current step (``LifecycleError/currentStep``);
        /// ``LifecycleError/expectedStep`` names the step it needs.
        public static let notAtStep = Code(rawValue: "notAtStep")
        /// Another call of the same flow is still running (waiting for a card, talking to it).
        public static let stepInProgress = Code(rawValue: "stepInProgress")
        /// The flow went back to its start (戻る) while this call was running; its result was dropped.
        public static let flowRestarted = Code(rawValue: "flowRestarted")
        /// The wait was cancelled.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The registration changed after the confirmation screen was prepared (another renewal or change won);
        /// nothing was stored and the flow starts over.
        public static let registrationChanged = Code(rawValue: "registrationChanged")
        /// The confirmation screen waited longer than its time limit; nothing was stored and the flow starts over.
        public static let confirmationExpired = Code(rawValue: "confirmationExpired")
        /// The registration desk refused or failed; ``LifecycleError/registrationError`` is its error.
        public static let registration = Code(rawValue: "registration")
        /// No stored flow has this identifier (``LifecycleError/flowID``; a server's flow: it was never started,
        /// completed long ago, or belongs to another user).
        public static let flowNotFound = Code(rawValue: "flowNotFound")
        /// The stored flow's (``LifecycleError/flowID``) time ran out; nothing was stored, start again.
        public static let flowExpired = Code(rawValue: "flowExpired")

        // MARK: Certificate update, power-of-attorney renewal and agent deletion

        /// The certificate read is not a certificate the portal has registered (to any user).
        public static let certificateNotRegistered = Code(rawValue: "certificateNotRegistered")
        /// The certificate read is registered, but its binding ended (``LifecycleError/bindingStatus``:
        /// superseded, revoked or removed), so it cannot be updated.
        public static let registeredCertificateNotActive = Code(rawValue: "registeredCertificateNotActive")
        /// The registered private certificate read was revoked by its certification authority (失効) on
        /// ``LifecycleError/date``.
        public static let registeredCertificateRevoked = Code(rawValue: "registeredCertificateRevoked")
        /// The certificate type chosen does not hold the registered certificate (``LifecycleError/registeredKind``
        /// is its kind).
        public static let certificateTypeMismatch = Code(rawValue: "certificateTypeMismatch")
        /// The PKCS#12 file's password was wrong; nothing was read.
        public static let wrongFilePassword = Code(rawValue: "wrongFilePassword")
        /// The PKCS#12 file could not be opened; ``LifecycleError/cardError`` is the credential module's error.
        public static let fileUnreadable = Code(rawValue: "fileUnreadable")
        /// The My Number card refused or failed; ``LifecycleError/jpkiError`` is the JPKI module's error (wrong or
        /// blocked PIN, pulled card, not a My Number card).
        public static let myNumberCard = Code(rawValue: "myNumberCard")
        /// The user did not consent to the portal asking JPKI (公的個人認証サービス) for the linkage of the old card.
        public static let jpkiConsentRequired = Code(rawValue: "jpkiConsentRequired")
        /// JPKI knows no signing certificate that replaced the registered one (it was not renewed yet).
        public static let jpkiCertificateNotRenewed = Code(rawValue: "jpkiCertificateNotRenewed")
        /// JPKI revoked the registered signing certificate because the holder's details changed
        /// (affiliationChanged), not for a renewal: the new certificate is not linked.
        public static let jpkiDetailsChanged = Code(rawValue: "jpkiDetailsChanged")
        /// The JPKI linkage service could not answer; ``LifecycleError/reason`` says why.
        public static let jpkiLinkageUnavailable = Code(rawValue: "jpkiLinkageUnavailable")
        /// The agent's power of attorney (電子委任状) is still in force until ``LifecycleError/date``: this flow is
        /// for an expired one.
        public static let powerOfAttorneyStillValid = Code(rawValue: "powerOfAttorneyStillValid")
        /// The user is not an agent (代理人) registered with a My Number card and a power of attorney.
        public static let notAnAgentWithPowerOfAttorney = Code(rawValue: "notAnAgentWithPowerOfAttorney")
        /// The agent's registered My Number card certificate is no longer active (``LifecycleError/bindingStatus``:
        /// expired, superseded, revoked, removed): it cannot prove who acts.
        public static let agentCertificateNotActive = Code(rawValue: "agentCertificateNotActive")
        /// The My Number card read is not the card the agent is registered with.
        public static let agentCardMismatch = Code(rawValue: "agentCardMismatch")
        /// The 電子委任状取扱事業者 refused or failed the request; ``LifecycleError/reason`` is its answer.
        public static let powerOfAttorneyRequestFailed = Code(rawValue: "powerOfAttorneyRequestFailed")
        /// The power of attorney the provider returned does not fit the registration: ``LifecycleError/field``
        /// (委任者, 受任者 or 有効期間) says where.
        public static let powerOfAttorneyMismatch = Code(rawValue: "powerOfAttorneyMismatch")
        /// A field (``LifecycleError/field``) of the request to the 電子委任状取扱事業者 is missing or malformed.
        public static let powerOfAttorneyRequestInvalid = Code(rawValue: "powerOfAttorneyRequestInvalid")
        /// The deletion was not confirmed as irreversible (削除した利用者情報を元に戻すことはできません).
        public static let deletionNotAcknowledged = Code(rawValue: "deletionNotAcknowledged")
        /// A certificate on the agent's My Number card (``LifecycleError/certificateKind``: the signing or the
        /// user-authentication one) is not valid now — revoked (失効; JPKI revokes the signing one after a change
        /// of name or address), expired or not trusted; ``LifecycleError/reason`` says which check failed.
        public static let agentCertificateInvalid = Code(rawValue: "agentCertificateInvalid")

        // MARK: Revocation request (インターネット失効申込)

        /// The online revocation request is not available for this card; the paper procedure (書面による失効申込)
        /// applies. ``LifecycleError/paperProcedureReason`` says why.
        public static let paperProcedureRequired = Code(rawValue: "paperProcedureRequired")
        /// The card's certificate was revoked (失効) already, on ``LifecycleError/date``; there is nothing to
        /// request.
        public static let alreadyRevoked = Code(rawValue: "alreadyRevoked")
        /// 同意して次へ was pressed before the documents named in ``LifecycleError/missingDocuments`` (手続きの流れ,
        /// 利用規約) were opened.
        public static let documentsNotOpened = Code(rawValue: "documentsNotOpened")
        /// A field of the request form (失効申込情報入力) is missing or malformed: ``LifecycleError/field`` is its
        /// label, ``LifecycleError/reason`` the problem.
        public static let requestFormInvalid = Code(rawValue: "requestFormInvalid")
        /// 失効申込をする(確定) was pressed before 上記内容を確認しました was ticked.
        public static let confirmationNotChecked = Code(rawValue: "confirmationNotChecked")
        /// The request was sent already, so it can be neither corrected nor withdrawn.
        public static let revocationAlreadySubmitted = Code(rawValue: "revocationAlreadySubmitted")
        /// The certification authority refused the request; ``LifecycleError/reason`` is its answer.
        public static let revocationRefused = Code(rawValue: "revocationRefused")
        /// The request was sent but the certification authority's answer did not arrive; ``LifecycleError/reason``
        /// says why.
        public static let revocationNotAnswered = Code(rawValue: "revocationNotAnswered")

        // MARK: Certificate reissue (電子証明書の再発行と取得)

        /// The 契約者ID (利用者番号) is not the 11 digits printed on the お客様カード.
        public static let contractIDFormat = Code(rawValue: "contractIDFormat")
        /// The 契約者ID, user ID or passwords (暗証番号) did not match; ``LifecycleError/attemptsLeft`` more wrong
        /// tries are allowed before the service locks (nil: nothing was counted, e.g. the contract is unknown).
        public static let signInRejected = Code(rawValue: "signInRejected")
        /// The service is locked (ロック) after too many wrong passwords; ``LifecycleError/isContractWide`` when
        /// the administrator's lock-out locks every user of the contract.
        public static let serviceLocked = Code(rawValue: "serviceLocked")
        /// The administrator's certificate login (管理者ログオン) was refused: expired, inactive, not trusted, or a
        /// bad signature; ``LifecycleError/registrationError`` is the login's error.
        public static let administratorCertificateRefused = Code(rawValue: "administratorCertificateRefused")
        /// The certificate that logged in is not the certificate of this contract's administrator (代表者).
        public static let notTheAdministrator = Code(rawValue: "notTheAdministrator")
        /// The user chosen is not a user (利用者) of this contract.
        public static let reissueUserNotFound = Code(rawValue: "reissueUserNotFound")
        /// The enrollment code is unknown, was used already, or belongs to another user.
        public static let enrollmentCodeInvalid = Code(rawValue: "enrollmentCodeInvalid")
        /// The enrollment code expired on ``LifecycleError/date``.
        public static let enrollmentCodeExpired = Code(rawValue: "enrollmentCodeExpired")
        /// The certification authority refused the certificate request (CSR); ``LifecycleError/reason`` is its
        /// answer.
        public static let certificateRequestRefused = Code(rawValue: "certificateRequestRefused")
        /// The certificate the certification authority returned does not fit the request; ``LifecycleError/reason``
        /// says how.
        public static let issuedCertificateMismatch = Code(rawValue: "issuedCertificateMismatch")
        /// The certification authority could not be reached or failed; ``LifecycleError/reason`` says why.
        public static let certificateAuthorityUnavailable = Code(rawValue: "certificateAuthorityUnavailable")
        /// The key or the PKCS#12 file could not be made; ``LifecycleError/reason`` is the credential module's
        /// error.
        public static let credentialNotCreated = Code(rawValue: "credentialNotCreated")
        /// The store of contracts, passwords and enrollment codes failed; ``LifecycleError/reason`` says how.
        public static let reissueStoreFailure = Code(rawValue: "reissueStoreFailure")
    }

    /// What kind of refusal.
    public let code: Code
    /// The refusal with its values: what ``description``, equality and the typed properties read.
    private let details: Details

    private init(_ details: Details) {
        self.code = details.code
        self.details = details
    }

    // MARK: - The reader

    /// No card was inserted into `reader` before the wait ended.
    public static func noCardInserted(reader: String) -> LifecycleError { .init(.noCardInserted(reader: reader)) }
    /// The card in `reader` was not taken out before the wait ended (the card swap of an IC card renewal).
    public static func cardNotRemoved(reader: String) -> LifecycleError { .init(.cardNotRemoved(reader: reader)) }
    /// The card left the reader during the step; nothing was changed.
    public static func cardRemoved(_ role: RenewalCardRole) -> LifecycleError { .init(.cardRemoved(role)) }
    /// After the card was pulled, another card came back in its place.
    public static func differentCardInserted(_ role: RenewalCardRole) -> LifecycleError {
        .init(.differentCardInserted(role))
    }
    /// The card could not be read: it is not an IC card this portal knows, the link failed, or its answer is
    /// damaged; `reason` is the card module's error.
    public static func cardUnreadable(_ role: RenewalCardRole, reason: CardCredentialsError) -> LifecycleError {
        .init(.cardUnreadable(role, reason: reason))
    }

    // MARK: PINs

    /// The PIN does not have the card's form; nothing was sent to the card and no try was spent.
    public static func pinFormat(_ role: RenewalCardRole, _ problem: PINFormatProblem) -> LifecycleError {
        .init(.pinFormat(role, problem))
    }
    /// The card refused the PIN; `triesLeft` more wrong tries are allowed before it is blocked (閉塞).
    public static func wrongPIN(_ role: RenewalCardRole, triesLeft: Int) -> LifecycleError {
        .init(.wrongPIN(role, triesLeft: triesLeft))
    }
    /// Only one try is left and spending it was not allowed; the PIN was not sent.
    public static func lastTryRefused(_ role: RenewalCardRole) -> LifecycleError { .init(.lastTryRefused(role)) }
    /// The card's PIN is blocked (閉塞). For the current card the renewal is not available (新規登録).
    public static func pinBlocked(_ role: RenewalCardRole) -> LifecycleError { .init(.pinBlocked(role)) }
    /// The card accepted its PIN but its key did not sign for the certificate it carries.
    public static func cardKeyMismatch(_ role: RenewalCardRole) -> LifecycleError { .init(.cardKeyMismatch(role)) }

    // MARK: The current card: when IC card renewal is not available

    /// The current card's certificate is not a certificate of this user in the registration.
    public static let currentCardNotRegistered = LifecycleError(.currentCardNotRegistered)
    /// The current card's certificate is registered, but no longer active (superseded, removed, revoked).
    public static func currentCardNotActive(_ status: BindingStatus) -> LifecycleError {
        .init(.currentCardNotActive(status))
    }
    /// The current card expired (有効期限切れ): renewal is not available; register anew (新規登録).
    public static func currentCardExpired(notAfter: Date) -> LifecycleError {
        .init(.currentCardExpired(notAfter: notAfter))
    }
    /// The current card was revoked (失効, e.g. lost): renewal is not available; register anew (新規登録).
    public static func currentCardRevoked(date: Date) -> LifecycleError { .init(.currentCardRevoked(date: date)) }

    // MARK: The new card

    /// The card or file given as the new one holds the current certificate.
    public static let sameCard = LifecycleError(.sameCard)
    /// The new certificate (of a new IC card, file or My Number card) expired (有効期限切れ).
    public static func newCardExpired(notAfter: Date) -> LifecycleError { .init(.newCardExpired(notAfter: notAfter)) }
    /// The new card's certificate is not valid yet.
    public static func newCardNotYetValid(notBefore: Date) -> LifecycleError {
        .init(.newCardNotYetValid(notBefore: notBefore))
    }
    /// The new card's certificate was revoked (失効).
    public static func newCardRevoked(date: Date) -> LifecycleError { .init(.newCardRevoked(date: date)) }
    /// The new card's certificate is registered already (to this or another user).
    public static let newCardAlreadyRegistered = LifecycleError(.newCardAlreadyRegistered)
    /// The new card's company name (ICカード業者名称) is not exactly the registered 商号又は名称; `card` is nil
    /// when the certificate carries none.
    public static func companyNameMismatch(registered: String, card: String?) -> LifecycleError {
        .init(.companyNameMismatch(registered: registered, card: card))
    }
    /// The new card's holder differs from the current card's: `field` is the screen's label
    /// (ICカード取得者氏名 or ICカード取得者所在地).
    public static func holderMismatch(field: String, current: String, new: String) -> LifecycleError {
        .init(.holderMismatch(field: field, current: current, new: new))
    }

    // MARK: Either card

    /// The card's certificate did not pass validation for another reason (no chain to a trusted CA, a stale or
    /// missing revocation list); `reason` is the validator's sentence.
    public static func certificateUntrusted(_ role: RenewalCardRole, reason: String) -> LifecycleError {
        .init(.certificateUntrusted(role, reason: reason))
    }

    // MARK: The flow

    /// The call does not belong to the flow's current step (`current`); `expected` names the step it needs.
    ///
    /// The steps are the flow's names for them (`insertCurrentCard`, `confirm`, `current-card`, …), read back
    /// as ``expectedStep`` and ``currentStep``.
    public static func notAtStep(expected: String, current: String) -> LifecycleError {
        .init(.notAtStep(expected: expected, current: current))
    }
    /// Another call of the same flow is still running (waiting for a card, talking to it).
    public static let stepInProgress = LifecycleError(.stepInProgress)
    /// The flow went back to its start (戻る) while this call was running; its result was dropped.
    public static let flowRestarted = LifecycleError(.flowRestarted)
    /// The wait was cancelled.
    public static let cancelled = LifecycleError(.cancelled)
    /// The registration changed after the confirmation screen was prepared (another renewal or change won);
    /// nothing was stored and the flow starts over.
    public static let registrationChanged = LifecycleError(.registrationChanged)
    /// The confirmation screen waited longer than its time limit; nothing was stored and the flow starts over.
    public static let confirmationExpired = LifecycleError(.confirmationExpired)
    /// The registration desk refused or failed; `error` is its error.
    public static func registration(_ error: RegistrationError) -> LifecycleError { .init(.registration(error)) }
    /// No stored flow has this identifier (a server's flow: it was never started, completed long ago, or
    /// belongs to another user).
    public static func flowNotFound(_ flowID: String) -> LifecycleError { .init(.flowNotFound(flowID)) }
    /// The stored flow's time ran out; nothing was stored, start again.
    public static func flowExpired(_ flowID: String) -> LifecycleError { .init(.flowExpired(flowID)) }

    // MARK: Certificate update, power-of-attorney renewal and agent deletion (電子証明書更新, 電子委任状更新, 利用者情報削除)

    /// The certificate read is not a certificate the portal has registered (to any user).
    public static let certificateNotRegistered = LifecycleError(.certificateNotRegistered)
    /// The certificate read is registered, but its binding ended (superseded, revoked or removed), so it cannot
    /// be updated.
    public static func registeredCertificateNotActive(_ status: BindingStatus) -> LifecycleError {
        .init(.registeredCertificateNotActive(status))
    }
    /// The registered private certificate read was revoked by its certification authority (失効).
    public static func registeredCertificateRevoked(date: Date) -> LifecycleError {
        .init(.registeredCertificateRevoked(date: date))
    }
    /// The certificate type chosen does not hold the registered certificate (`registered` is its kind).
    public static func certificateTypeMismatch(registered: CredentialKind) -> LifecycleError {
        .init(.certificateTypeMismatch(registered: registered))
    }
    /// The PKCS#12 file's password was wrong; nothing was read.
    public static func wrongFilePassword(_ role: RenewalCardRole) -> LifecycleError { .init(.wrongFilePassword(role)) }
    /// The PKCS#12 file could not be opened; `reason` is the credential module's error.
    public static func fileUnreadable(_ role: RenewalCardRole, reason: CardCredentialsError) -> LifecycleError {
        .init(.fileUnreadable(role, reason: reason))
    }
    /// The My Number card refused or failed; `error` is the JPKI module's error (wrong or blocked PIN, pulled
    /// card, not a My Number card).
    public static func myNumberCard(_ error: JPKIError) -> LifecycleError { .init(.myNumberCard(error)) }
    /// The user did not consent to the portal asking JPKI (公的個人認証サービス) for the linkage of the old card.
    public static let jpkiConsentRequired = LifecycleError(.jpkiConsentRequired)
    /// JPKI knows no signing certificate that replaced the registered one (it was not renewed yet).
    public static let jpkiCertificateNotRenewed = LifecycleError(.jpkiCertificateNotRenewed)
    /// JPKI revoked the registered signing certificate because the holder's details changed
    /// (affiliationChanged), not for a renewal: the new certificate is not linked.
    public static let jpkiDetailsChanged = LifecycleError(.jpkiDetailsChanged)
    /// The JPKI linkage service could not answer; `reason` says why.
    public static func jpkiLinkageUnavailable(reason: String) -> LifecycleError {
        .init(.jpkiLinkageUnavailable(reason: reason))
    }
    /// The agent's power of attorney (電子委任状) is still in force until `validUntil`: this flow is for an
    /// expired one.
    public static func powerOfAttorneyStillValid(validUntil: Date) -> LifecycleError {
        .init(.powerOfAttorneyStillValid(validUntil: validUntil))
    }
    /// The user is not an agent (代理人) registered with a My Number card and a power of attorney.
    public static let notAnAgentWithPowerOfAttorney = LifecycleError(.notAnAgentWithPowerOfAttorney)
    /// The agent's registered My Number card certificate is no longer active (expired, superseded, revoked,
    /// removed): it cannot prove who acts.
    public static func agentCertificateNotActive(_ status: BindingStatus) -> LifecycleError {
        .init(.agentCertificateNotActive(status))
    }
    /// The My Number card read is not the card the agent is registered with.
    public static let agentCardMismatch = LifecycleError(.agentCardMismatch)
    /// The 電子委任状取扱事業者 refused or failed the request; `reason` is its answer.
    public static func powerOfAttorneyRequestFailed(reason: String) -> LifecycleError {
        .init(.powerOfAttorneyRequestFailed(reason: reason))
    }
    /// The power of attorney the provider returned does not fit the registration: `field` (委任者, 受任者 or
    /// 有効期間) says where.
    public static func powerOfAttorneyMismatch(field: String, reason: String) -> LifecycleError {
        .init(.powerOfAttorneyMismatch(field: field, reason: reason))
    }
    /// A field of the request to the 電子委任状取扱事業者 is missing or malformed.
    public static func powerOfAttorneyRequestInvalid(field: String, reason: String) -> LifecycleError {
        .init(.powerOfAttorneyRequestInvalid(field: field, reason: reason))
    }
    /// The deletion was not confirmed as irreversible (削除した利用者情報を元に戻すことはできません).
    public static let deletionNotAcknowledged = LifecycleError(.deletionNotAcknowledged)
    /// A certificate on the agent's My Number card (the signing or the user-authentication one) is not valid now —
    /// revoked (失効; JPKI revokes the signing one after a change of name or address), expired or not trusted;
    /// `reason` says which check failed.
    public static func agentCertificateInvalid(_ kind: JPKICertificateKind, reason: String) -> LifecycleError {
        .init(.agentCertificateInvalid(kind, reason: reason))
    }

    // MARK: Revocation request (インターネット失効申込)

    /// The online revocation request is not available for this card; the paper procedure (書面による失効申込)
    /// applies. `reason` says why.
    public static func paperProcedureRequired(_ reason: PaperProcedureReason) -> LifecycleError {
        .init(.paperProcedureRequired(reason))
    }
    /// The card's certificate was revoked (失効) already, on `date`; there is nothing to request.
    public static func alreadyRevoked(date: Date) -> LifecycleError { .init(.alreadyRevoked(date: date)) }
    /// 同意して次へ was pressed before the documents named in `missing` (手続きの流れ, 利用規約) were opened.
    public static func documentsNotOpened(missing: [String]) -> LifecycleError {
        .init(.documentsNotOpened(missing: missing))
    }
    /// A field of the request form (失効申込情報入力) is missing or malformed: `field` is its label.
    public static func requestFormInvalid(field: String, problem: String) -> LifecycleError {
        .init(.requestFormInvalid(field: field, problem: problem))
    }
    /// 失効申込をする(確定) was pressed before 上記内容を確認しました was ticked.
    public static let confirmationNotChecked = LifecycleError(.confirmationNotChecked)
    /// The request was sent already, so it can be neither corrected nor withdrawn.
    public static let revocationAlreadySubmitted = LifecycleError(.revocationAlreadySubmitted)
    /// The certification authority refused the request; `reason` is its answer.
    public static func revocationRefused(reason: String) -> LifecycleError { .init(.revocationRefused(reason: reason)) }
    /// The request was sent but the certification authority's answer did not arrive; `reason` says why.
    public static func revocationNotAnswered(reason: String) -> LifecycleError {
        .init(.revocationNotAnswered(reason: reason))
    }

    // MARK: Certificate reissue (電子証明書の再発行と取得)

    /// The 契約者ID (利用者番号) is not the 11 digits printed on the お客様カード.
    public static let contractIDFormat = LifecycleError(.contractIDFormat)
    /// The 契約者ID, user ID or passwords (暗証番号) did not match; `attemptsLeft` more wrong tries are allowed
    /// before the service locks (nil: nothing was counted, e.g. the contract is unknown).
    public static func signInRejected(attemptsLeft: Int?) -> LifecycleError {
        .init(.signInRejected(attemptsLeft: attemptsLeft))
    }
    /// The service is locked (ロック) after too many wrong passwords; `contractWide` when the administrator's
    /// lock-out locks every user of the contract.
    public static func serviceLocked(contractWide: Bool) -> LifecycleError {
        .init(.serviceLocked(contractWide: contractWide))
    }
    /// The administrator's certificate login (管理者ログオン) was refused: expired, inactive, not trusted, or a bad
    /// signature; `reason` is the login's error.
    public static func administratorCertificateRefused(_ reason: RegistrationError) -> LifecycleError {
        .init(.administratorCertificateRefused(reason))
    }
    /// The certificate that logged in is not the certificate of this contract's administrator (代表者).
    public static let notTheAdministrator = LifecycleError(.notTheAdministrator)
    /// The user chosen is not a user (利用者) of this contract.
    public static let reissueUserNotFound = LifecycleError(.reissueUserNotFound)
    /// The enrollment code is unknown, was used already, or belongs to another user.
    public static let enrollmentCodeInvalid = LifecycleError(.enrollmentCodeInvalid)
    /// The enrollment code expired on `expiredAt`.
    public static func enrollmentCodeExpired(expiredAt: Date) -> LifecycleError {
        .init(.enrollmentCodeExpired(expiredAt: expiredAt))
    }
    /// The certification authority refused the certificate request (CSR); `reason` is its answer.
    public static func certificateRequestRefused(reason: String) -> LifecycleError {
        .init(.certificateRequestRefused(reason: reason))
    }
    /// The certificate the certification authority returned does not fit the request; `reason` says how.
    public static func issuedCertificateMismatch(reason: String) -> LifecycleError {
        .init(.issuedCertificateMismatch(reason: reason))
    }
    /// The certification authority could not be reached or failed; `reason` says why.
    public static func certificateAuthorityUnavailable(reason: String) -> LifecycleError {
        .init(.certificateAuthorityUnavailable(reason: reason))
    }
    /// The key or the PKCS#12 file could not be made; `reason` is the credential module's error.
    public static func credentialNotCreated(reason: String) -> LifecycleError {
        .init(.credentialNotCreated(reason: reason))
    }
    /// The store of contracts, passwords and enrollment codes failed; `reason` says how.
    public static func reissueStoreFailure(reason: String) -> LifecycleError {
        .init(.reissueStoreFailure(reason: reason))
    }

    // MARK: - The values an error is about

    /// Which card the error is about, for the card and PIN codes (``Code-swift.struct/cardRemoved``,
    /// ``Code-swift.struct/wrongPIN``, …), ``Code-swift.struct/certificateUntrusted`` and the file codes
    /// (``Code-swift.struct/wrongFilePassword``, ``Code-swift.struct/fileUnreadable``: the file to update from
    /// (更新元) or to (更新先)).
    public var cardRole: RenewalCardRole? {
        switch details {
        case .cardRemoved(let role), .differentCardInserted(let role), .cardUnreadable(let role, _),
            .pinFormat(let role, _), .wrongPIN(let role, _), .lastTryRefused(let role), .pinBlocked(let role),
            .cardKeyMismatch(let role), .certificateUntrusted(let role, _), .wrongFilePassword(let role),
            .fileUnreadable(let role, _):
            role
        default: nil
        }
    }

    /// The reader's name, for ``Code-swift.struct/noCardInserted`` and ``Code-swift.struct/cardNotRemoved``.
    public var reader: String? {
        switch details {
        case .noCardInserted(let reader), .cardNotRemoved(let reader): reader
        default: nil
        }
    }

    /// The card module's error, for ``Code-swift.struct/cardUnreadable`` and ``Code-swift.struct/fileUnreadable``.
    public var cardError: CardCredentialsError? {
        switch details {
        case .cardUnreadable(_, let error), .fileUnreadable(_, let error): error
        default: nil
        }
    }

    /// What is wrong with the PIN's form, for ``Code-swift.struct/pinFormat``.
    public var pinFormatProblem: PINFormatProblem? {
        if case .pinFormat(_, let problem) = details { problem } else { nil }
    }

    /// How many more wrong PINs the card allows, for ``Code-swift.struct/wrongPIN``.
    public var triesLeft: Int? {
        if case .wrongPIN(_, let triesLeft) = details { triesLeft } else { nil }
    }

    /// The status of the registered certificate, for ``Code-swift.struct/currentCardNotActive``,
    /// ``Code-swift.struct/registeredCertificateNotActive`` and ``Code-swift.struct/agentCertificateNotActive``.
    public var bindingStatus: BindingStatus? {
        switch details {
        case .currentCardNotActive(let status), .registeredCertificateNotActive(let status),
            .agentCertificateNotActive(let status):
            status
        default: nil
        }
    }

    /// The date the error is about: when a certificate expired (``Code-swift.struct/currentCardExpired``,
    /// ``Code-swift.struct/newCardExpired``), becomes valid (``Code-swift.struct/newCardNotYetValid``) or was
    /// revoked (``Code-swift.struct/currentCardRevoked``, ``Code-swift.struct/newCardRevoked``,
    /// ``Code-swift.struct/registeredCertificateRevoked``, ``Code-swift.struct/alreadyRevoked``); until when a
    /// power of attorney is in force (``Code-swift.struct/powerOfAttorneyStillValid``); when an enrollment code
    /// expired (``Code-swift.struct/enrollmentCodeExpired``).
    public var date: Date? {
        switch details {
        case .currentCardExpired(let date), .currentCardRevoked(let date), .newCardExpired(let date),
            .newCardNotYetValid(let date), .newCardRevoked(let date), .registeredCertificateRevoked(let date),
            .powerOfAttorneyStillValid(let date), .alreadyRevoked(let date), .enrollmentCodeExpired(let date):
            date
        default: nil
        }
    }

    /// The registered 商号又は名称, for ``Code-swift.struct/companyNameMismatch``.
    public var registeredCompanyName: String? {
        if case .companyNameMismatch(let registered, _) = details { registered } else { nil }
    }

    /// The new certificate's company name (ICカード業者名称), for ``Code-swift.struct/companyNameMismatch`` (nil
    /// also when the certificate carries none).
    public var cardCompanyName: String? {
        if case .companyNameMismatch(_, let card) = details { card } else { nil }
    }

    /// The label of the field to blame: the screen's (``Code-swift.struct/holderMismatch``), the power of
    /// attorney's (``Code-swift.struct/powerOfAttorneyMismatch``, ``Code-swift.struct/powerOfAttorneyRequestInvalid``)
    /// or the request form's (``Code-swift.struct/requestFormInvalid``).
    public var field: String? {
        switch details {
        case .holderMismatch(let field, _, _), .powerOfAttorneyMismatch(let field, _),
            .powerOfAttorneyRequestInvalid(let field, _), .requestFormInvalid(let field, _):
            field
        default: nil
        }
    }

    /// The current certificate's value of ``field``, for ``Code-swift.struct/holderMismatch``.
    public var currentValue: String? {
        if case .holderMismatch(_, let current, _) = details { current } else { nil }
    }

    /// The new certificate's value of ``field``, for ``Code-swift.struct/holderMismatch``.
    public var newValue: String? {
        if case .holderMismatch(_, _, let new) = details { new } else { nil }
    }

    /// The sentence of a validator or a peer (the linkage service, the 電子委任状取扱事業者, the certification
    /// authority, the store) that says why, for the codes whose error carries one as text.
    public var reason: String? {
        switch details {
        case .certificateUntrusted(_, let reason), .jpkiLinkageUnavailable(let reason),
            .powerOfAttorneyRequestFailed(let reason), .powerOfAttorneyMismatch(_, let reason),
            .powerOfAttorneyRequestInvalid(_, let reason), .agentCertificateInvalid(_, let reason),
            .requestFormInvalid(_, let reason), .revocationRefused(let reason), .revocationNotAnswered(let reason),
            .certificateRequestRefused(let reason), .issuedCertificateMismatch(let reason),
            .certificateAuthorityUnavailable(let reason), .credentialNotCreated(let reason),
            .reissueStoreFailure(let reason):
            reason
        default: nil
        }
    }

    /// The step the call needs, for ``Code-swift.struct/notAtStep``: the flow's name of the step
    /// (`insertCurrentCard`, `confirm`; `current-card` for a ``RemoteICCardRenewal``).
    public var expectedStep: String? {
        if case .notAtStep(let expected, _) = details { expected } else { nil }
    }

    /// The step the flow is at, for ``Code-swift.struct/notAtStep``: the flow's name of the step (an
    /// ``ICCardRenewalStep``'s `name`, an ``ICCardRenewalState/Step``'s raw value), comparable with
    /// ``expectedStep`` and with the name of the step the front end shows.
    public var currentStep: String? {
        if case .notAtStep(_, let current) = details { current } else { nil }
    }

    /// The flow's identifier, for ``Code-swift.struct/flowNotFound`` and ``Code-swift.struct/flowExpired``.
    public var flowID: String? {
        switch details {
        case .flowNotFound(let id), .flowExpired(let id): id
        default: nil
        }
    }

    /// The registration desk's error, for ``Code-swift.struct/registration`` and
    /// ``Code-swift.struct/administratorCertificateRefused``.
    public var registrationError: RegistrationError? {
        switch details {
        case .registration(let error), .administratorCertificateRefused(let error): error
        default: nil
        }
    }

    /// The kind of the registered certificate, for ``Code-swift.struct/certificateTypeMismatch``.
    public var registeredKind: CredentialKind? {
        if case .certificateTypeMismatch(let registered) = details { registered } else { nil }
    }

    /// The JPKI module's error, for ``Code-swift.struct/myNumberCard``.
    public var jpkiError: JPKIError? {
        if case .myNumberCard(let error) = details { error } else { nil }
    }

    /// Which certificate of the My Number card, for ``Code-swift.struct/agentCertificateInvalid``.
    public var certificateKind: JPKICertificateKind? {
        if case .agentCertificateInvalid(let kind, _) = details { kind } else { nil }
    }

    /// Why only the paper procedure is left, for ``Code-swift.struct/paperProcedureRequired``.
    public var paperProcedureReason: PaperProcedureReason? {
        if case .paperProcedureRequired(let reason) = details { reason } else { nil }
    }

    /// The documents not opened yet, for ``Code-swift.struct/documentsNotOpened``.
    public var missingDocuments: [String]? {
        if case .documentsNotOpened(let missing) = details { missing } else { nil }
    }

    /// How many more wrong sign-ins are allowed before the service locks, for ``Code-swift.struct/signInRejected``
    /// (nil also when nothing was counted).
    public var attemptsLeft: Int? {
        if case .signInRejected(let attemptsLeft) = details { attemptsLeft } else { nil }
    }

    /// Whether the lock-out locks every user of the contract, for ``Code-swift.struct/serviceLocked``.
    public var isContractWide: Bool? {
        if case .serviceLocked(let contractWide) = details { contractWide } else { nil }
    }

    // MARK: - Helpers

    /// Whether a commit failed in the store itself (the database could not be written, another program held
    /// it): nothing was stored and the prepared change is still good, so the flow stays at its confirmation and
    /// the person may press the button again.
    var isStoreFailure: Bool {
        if case .registration(.storeFailure) = details { true } else { false }
    }

    /// Whether the error is one of the manual's refusals of IC card renewal that leave only a new registration
    /// (新規登録): the current card expired, revoked (lost) or blocked (閉塞).
    public var requiresNewRegistration: Bool {
        switch details {
        case .currentCardExpired, .currentCardRevoked, .pinBlocked(.current): true
        case .currentCardNotActive(let status): status == .revoked || status == .expired
        default: false
        }
    }

    /// The advice of the manuals when IC card renewal is not available.
    static let newRegistrationAdvice =
        "IC card renewal (ICカード更新) is not available for it: register anew (新規登録, 利用者情報の新規登録) "
        + "with the new card, entering the card's department information (ICカード利用部署情報)."

    /// A sentence for people: what happened and what to do next.
    public var description: String {
        switch details {
        case .noCardInserted(let reader):
            return "No IC card was inserted into \(reader). Insert the card and press OK again."
        case .cardNotRemoved(let reader):
            return "The current IC card was not taken out of \(reader). Take it out, insert the new card "
                + "(新しいICカード), and press OK again."
        case .cardRemoved(let role):
            return "\(role.description.capitalizedFirst) was taken out of the reader during the step; nothing was "
                + "changed. Insert it again and repeat the step."
        case .differentCardInserted(let role):
            return "Another card was inserted in place of \(role). Insert that card again and repeat the step, "
                + "or go back (戻る) and start the renewal over."
        case .cardUnreadable(let role, let reason):
            return "\(role.description.capitalizedFirst) could not be read: \(reason)"
        case .pinFormat(let role, let problem):
            return "The PIN of \(role) was not sent to the card: \(problem). Enter the PIN (PIN番号) again."
        case .wrongPIN(let role, let triesLeft):
            let tries = triesLeft == 1 ? "1 try is" : "\(triesLeft) tries are"
            return "\(role.description.capitalizedFirst) refused the PIN (PIN番号): \(tries) left before the PIN "
                + "is blocked (閉塞). Enter the PIN the certification authority (認証局) gave with the card."
        case .lastTryRefused(let role):
            return "Only one try is left for the PIN of \(role) before it is blocked (閉塞), so the PIN was not "
                + "sent. Make sure of the PIN, then enter it again allowing the last try."
        case .pinBlocked(.current):
            return "The PIN of the current IC card is blocked (閉塞). " + Self.newRegistrationAdvice
        case .pinBlocked(.new):
            return "The PIN of the new IC card is blocked (閉塞). Ask its certification authority (認証局) to "
                + "unblock it, then insert it again."
        case .cardKeyMismatch(let role):
            return "The key of \(role) does not belong to the certificate it carries; the card is damaged or "
                + "not genuine. Ask its certification authority (認証局)."
        case .currentCardNotRegistered:
            return "The card in the reader is not a registered IC card of this user. Insert the IC card you log "
                + "in with now (現在使用しているICカード)."
        case .currentCardNotActive(let status):
            if status == .superseded {
                return "The card in the reader was already replaced by a newer card (更新済み); log in with the "
                    + "newer card, and renew that one when it comes close to expiry."
            }
            return "The card in the reader is no longer registered for login: it is \(status). "
                + Self.newRegistrationAdvice
        case .currentCardExpired(let notAfter):
            return "The current IC card expired on \(CertificateSummary.japanDate(notAfter)) (有効期限切れ). "
                + Self.newRegistrationAdvice
        case .currentCardRevoked(let date):
            return "The current IC card was revoked (失効) on \(CertificateSummary.japanDate(date)), as for a "
                + "lost card (紛失). " + Self.newRegistrationAdvice
        case .sameCard:
            return "The card or file given as the new one holds the current certificate. Take the current card "
                + "out and use the newly obtained IC card, file or My Number card (新しく取得したICカード)."
        case .newCardExpired(let notAfter):
            return "The new certificate expired on \(CertificateSummary.japanDate(notAfter)) (有効期限切れ). Use a "
                + "card or file that is valid, or ask its certification authority (認証局)."
        case .newCardNotYetValid(let notBefore):
            return "The new certificate is not valid until \(CertificateSummary.japanDate(notBefore)). Renew from "
                + "that day, or check the computer's clock."
        case .newCardRevoked(let date):
            return "The new certificate was revoked (失効) on \(CertificateSummary.japanDate(date)). Use a valid "
                + "card or file, or ask its certification authority (認証局)."
        case .newCardAlreadyRegistered:
            return "The new certificate is registered already (to this or another user); a certificate is "
                + "registered once. Use the card or file newly issued for this renewal."
        case .companyNameMismatch(let registered, let card):
            return "The company name in the new certificate (ICカード業者名称: \(card ?? "none")) is not exactly "
                + "the registered name (商号又は名称: \(registered)), so the renewal stops. Use a certificate issued "
                + "to the registered name, or change the business information (事業者基本情報) first."
        case .holderMismatch(let field, let current, let new):
            return "The new certificate's \(field) (\(new)) differs from the current one's (\(current)); a "
                + "renewal keeps the same holder. If the holder changed, register anew (新規登録)."
        case .certificateUntrusted(let role, let reason):
            return "The certificate of \(role) was not accepted: \(reason)"
        case .notAtStep(let expected, let current):
            return "This action belongs to the step \(expected), but the flow is at \(current). Follow the steps "
                + "the flow shows, or go back (戻る) and start over."
        case .stepInProgress:
            return "The previous action of this flow is still running. Wait for it to finish, then continue."
        case .flowNotFound(let id):
            return "There is no flow \(id) of yours (it was never started, ended, or is another user's); start the "
                + "flow again."
        case .flowExpired(let id):
            return "The flow \(id) waited too long and ended; nothing was changed. Start it again."
        case .flowRestarted:
            return "The flow went back to its start (戻る) while this action ran; nothing was changed. Start again "
                + "from the first step."
        case .cancelled:
            return "The wait was cancelled; nothing was changed. Repeat the step when ready."
        case .registrationChanged:
            return "The registration changed after the confirmation screen was shown (another renewal or change "
                + "was made first); nothing was stored. Start the renewal again to see the current state."
        case .confirmationExpired:
            return "The confirmation screen (電子証明書更新確認) waited too long; nothing was stored. Start the "
                + "renewal again."
        case .registration(let error):
            return error.description
        case .certificateNotRegistered:
            return "The certificate read is not registered with the portal. Choose the certificate registered with "
                + "the portal (必ず本システムに登録済みの電子証明書を選択してください); to add a new agent, register "
                + "the agent anew (利用者を登録する)."
        case .registeredCertificateNotActive(let status):
            return "The certificate read can no longer be updated: it is \(status). Read the certificate the portal "
                + "uses now, or register anew (新規登録)."
        case .registeredCertificateRevoked(let date):
            return "The certificate read was revoked (失効) on \(CertificateSummary.japanDate(date)), so it cannot "
                + "prove who you are. Register anew (新規登録) with the new certificate."
        case .certificateTypeMismatch(let registered):
            return "The registered certificate is held by \(registered.japaneseLabel). Go back (戻る) and choose "
                + "that certificate type."
        case .wrongFilePassword(let role):
            return "The password of the certificate file (\(role == .current ? "更新元" : "更新先")) was wrong; nothing "
                + "was read. Enter the password set when the file was issued."
        case .fileUnreadable(let role, let reason):
            return "The certificate file (\(role == .current ? "更新元" : "更新先")) could not be opened: \(reason)"
        case .myNumberCard(let error):
            return error.description
        case .jpkiConsentRequired:
            return "The old My Number card's information is obtained from JPKI (公的個人認証サービス) only with your "
                + "consent. Agree to it (同意する) and read the card again, or go back (戻る)."
        case .jpkiCertificateNotRenewed:
            return "JPKI (公的個人認証サービス) knows no new signing certificate for this card. Renew the signing "
                + "certificate (署名用電子証明書) at the municipality office (市区町村窓口) first, then try again."
        case .jpkiDetailsChanged:
            return "The signing certificate was revoked because your name, address, date of birth or sex changed, "
                + "not for a renewal, so it is not linked. Register anew (新規登録) with the new certificate."
        case .jpkiLinkageUnavailable(let reason):
            return "JPKI (公的個人認証サービス) could not be asked for the linkage: \(reason). Try again later."
        case .powerOfAttorneyStillValid(let validUntil):
            return "The power of attorney (電子委任状) is in force until \(CertificateSummary.japanDate(validUntil)); "
                + "it can be renewed, or the agent deleted here, only after it expired."
        case .notAnAgentWithPowerOfAttorney:
            return "The user is not an agent (代理人) registered with a My Number card and a power of attorney "
                + "(電子委任状). Log in as that agent."
        case .agentCertificateNotActive(let status):
            return "The agent's registered My Number card certificate is \(status), so it cannot act for the agent. "
                + "Update it first (電子証明書更新 with the My Number card), then renew the power of attorney; or "
                + "have the representative (代表者) delete the agent."
        case .agentCardMismatch:
            return "The My Number card read is not the card this agent is registered with. Insert the agent's own "
                + "My Number card (マイナンバーカード) and read it again."
        case .powerOfAttorneyRequestFailed(let reason):
            return "The 電子委任状取扱事業者 did not issue the power of attorney: \(reason). Check the request and "
                + "send it again, or ask the provider."
        case .powerOfAttorneyMismatch(let field, let reason):
            return "The power of attorney (電子委任状) returned does not fit the registration (\(field): \(reason)). "
                + "Ask the 電子委任状取扱事業者 to correct it, then request it again."
        case .powerOfAttorneyRequestInvalid(let field, let reason):
            return "The request field \(field) is not valid: \(reason). Correct it and request again (取得依頼)."
        case .deletionNotAcknowledged:
            return "A deleted user cannot be restored (削除した利用者情報を元に戻すことはできません). Confirm that you "
                + "understand this, then press 削除 again, or go back (戻る)."
        case .agentCertificateInvalid(.signing, let reason):
            return "The signing certificate (署名用電子証明書) on the agent's My Number card is not valid: \(reason) "
                + "A power of attorney cannot be issued for it: update the registered certificate first "
                + "(電子証明書更新), then renew the power of attorney."
        case .agentCertificateInvalid(let kind, let reason):
            return "\(kind.description.prefix(1).uppercased() + kind.description.dropFirst()) on the agent's My Number "
                + "card is not valid: \(reason) Have the card's certificates renewed at your municipality office "
                + "(市区町村窓口), then try again."
        case .paperProcedureRequired(let reason):
            return "The online revocation request (インターネット失効申込) is not available: \(reason). Request the "
                + "revocation on paper (書面による失効申込手続き) from the certification authority (認証局)."
        case .alreadyRevoked(let date):
            return "This IC card was revoked (失効) on \(CertificateSummary.japanDate(date)) already; no request is "
                + "needed. Insert another card to revoke, or end (終了)."
        case .documentsNotOpened(let missing):
            return "Open \(missing.map { "「\($0)」" }.joined(separator: " and ")) and read it first; "
                + "同意して次へ is possible only after the procedure (手続きの流れ) and the terms (利用規約) were opened."
        case .requestFormInvalid(let field, let problem):
            return "The request form's \(field) is not valid: \(problem). Correct it and press 失効申込内容確認へ "
                + "again (記入例を表示 shows an example)."
        case .confirmationNotChecked:
            return "Check the request and tick 上記内容を確認しました first; only then can 失効申込をする(確定) be pressed."
        case .revocationAlreadySubmitted:
            return "The revocation request was sent to the certification authority (認証局) already; it can be "
                + "neither corrected nor withdrawn (訂正や取消はできません). Keep its record."
        case .revocationRefused(let reason):
            return "The certification authority (認証局) refused the revocation request: \(reason). Check the card "
                + "and the request, or request the revocation on paper (書面による失効申込)."
        case .revocationNotAnswered(let reason):
            return "The revocation request was sent, but the certification authority's answer did not arrive "
                + "(\(reason)). Press 失効申込をする(確定) again: the same request is sent and is not recorded twice."
        case .contractIDFormat:
            return "The contract ID (契約者ID) is the 11 digits printed on the customer card (お客様カード). Enter "
                + "it again."
        case .signInRejected(let attemptsLeft):
            var left = ""
            if let attemptsLeft {
                let tries = attemptsLeft == 1 ? "1 try is" : "\(attemptsLeft) tries are"
                left = " \(tries) left before the service locks (ロック)."
            }
            return "The contract ID (契約者ID), user ID (利用者ID) or passwords (暗証番号) do not match.\(left) Check "
                + "them and enter them again."
        case .serviceLocked(let contractWide):
            let scope = contractWide ? " The administrator's lock-out locks the contract's users too." : ""
            return "The service is locked (ロック) after too many wrong passwords (暗証番号).\(scope) Submit the "
                + "暗証番号閉塞解除依頼書 at your branch to unlock it."
        case .administratorCertificateRefused(let reason):
            return "The administrator's certificate (管理者電子証明書) cannot log on: \(reason) If it expired or "
                + "was lost, submit the 電子証明書再発行依頼書 at your branch."
        case .notTheAdministrator:
            return "The certificate that logged on is not this contract's administrator (管理者, 代表者). Log on "
                + "with the administrator's certificate (契約者ID + 1635)."
        case .reissueUserNotFound:
            return "No such user (利用者) in this contract. Choose the user from the list (利用者情報選択)."
        case .enrollmentCodeInvalid:
            return "The enrollment code is not valid for this user, or was used already. Ask the administrator to "
                + "reissue the certificate (利用者電子証明書の再発行) for a new code."
        case .enrollmentCodeExpired(let expiredAt):
            return "The enrollment code expired on \(CertificateSummary.japanDate(expiredAt)). Ask the "
                + "administrator to reissue the certificate (利用者電子証明書の再発行) again."
        case .certificateRequestRefused(let reason):
            return "The certification authority (認証局) refused the certificate request: \(reason). Obtain the "
                + "certificate (電子証明書取得) again; nothing was issued."
        case .issuedCertificateMismatch(let reason):
            return "The certificate the certification authority (認証局) returned was not accepted (\(reason)); "
                + "nothing was installed. Obtain the certificate (電子証明書取得) again, or ask the portal's desk."
        case .certificateAuthorityUnavailable(let reason):
            return "The certification authority (認証局) could not be reached (\(reason)). Try again later."
        case .credentialNotCreated(let reason):
            return "The certificate file could not be made on this computer (\(reason)). Check the disk and try "
                + "again."
        case .reissueStoreFailure(let reason):
            return "The portal's account records could not be read or written (\(reason)). Try again later, or ask "
                + "the portal's desk."
        }
    }

    /// The refusals with their values, as the flows make them; private, so that adding one breaks no one.
    private enum Details: Sendable, Hashable {
        case noCardInserted(reader: String)
        case cardNotRemoved(reader: String)
        case cardRemoved(RenewalCardRole)
        case differentCardInserted(RenewalCardRole)
        case cardUnreadable(RenewalCardRole, reason: CardCredentialsError)
        case pinFormat(RenewalCardRole, PINFormatProblem)
        case wrongPIN(RenewalCardRole, triesLeft: Int)
        case lastTryRefused(RenewalCardRole)
        case pinBlocked(RenewalCardRole)
        case cardKeyMismatch(RenewalCardRole)
        case currentCardNotRegistered
        case currentCardNotActive(BindingStatus)
        case currentCardExpired(notAfter: Date)
        case currentCardRevoked(date: Date)
        case sameCard
        case newCardExpired(notAfter: Date)
        case newCardNotYetValid(notBefore: Date)
        case newCardRevoked(date: Date)
        case newCardAlreadyRegistered
        case companyNameMismatch(registered: String, card: String?)
        case holderMismatch(field: String, current: String, new: String)
        case certificateUntrusted(RenewalCardRole, reason: String)
        case notAtStep(expected: String, current: String)
        case stepInProgress
        case flowRestarted
        case cancelled
        case registrationChanged
        case confirmationExpired
        case registration(RegistrationError)
        case flowNotFound(String)
        case flowExpired(String)
        case certificateNotRegistered
        case registeredCertificateNotActive(BindingStatus)
        case registeredCertificateRevoked(date: Date)
        case certificateTypeMismatch(registered: CredentialKind)
        case wrongFilePassword(RenewalCardRole)
        case fileUnreadable(RenewalCardRole, reason: CardCredentialsError)
        case myNumberCard(JPKIError)
        case jpkiConsentRequired
        case jpkiCertificateNotRenewed
        case jpkiDetailsChanged
        case jpkiLinkageUnavailable(reason: String)
        case powerOfAttorneyStillValid(validUntil: Date)
        case notAnAgentWithPowerOfAttorney
        case agentCertificateNotActive(BindingStatus)
        case agentCardMismatch
        case powerOfAttorneyRequestFailed(reason: String)
        case powerOfAttorneyMismatch(field: String, reason: String)
        case powerOfAttorneyRequestInvalid(field: String, reason: String)
        case deletionNotAcknowledged
        case agentCertificateInvalid(JPKICertificateKind, reason: String)
        case paperProcedureRequired(PaperProcedureReason)
        case alreadyRevoked(date: Date)
        case documentsNotOpened(missing: [String])
        case requestFormInvalid(field: String, problem: String)
        case confirmationNotChecked
        case revocationAlreadySubmitted
        case revocationRefused(reason: String)
        case revocationNotAnswered(reason: String)
        case contractIDFormat
        case signInRejected(attemptsLeft: Int?)
        case serviceLocked(contractWide: Bool)
        case administratorCertificateRefused(RegistrationError)
        case notTheAdministrator
        case reissueUserNotFound
        case enrollmentCodeInvalid
        case enrollmentCodeExpired(expiredAt: Date)
        case certificateRequestRefused(reason: String)
        case issuedCertificateMismatch(reason: String)
        case certificateAuthorityUnavailable(reason: String)
        case credentialNotCreated(reason: String)
        case reissueStoreFailure(reason: String)

        /// The refusal's code.
        var code: Code {
            switch self {
            case .noCardInserted: .noCardInserted
            case .cardNotRemoved: .cardNotRemoved
            case .cardRemoved: .cardRemoved
            case .differentCardInserted: .differentCardInserted
            case .cardUnreadable: .cardUnreadable
            case .pinFormat: .pinFormat
            case .wrongPIN: .wrongPIN
            case .lastTryRefused: .lastTryRefused
            case .pinBlocked: .pinBlocked
            case .cardKeyMismatch: .cardKeyMismatch
            case .currentCardNotRegistered: .currentCardNotRegistered
            case .currentCardNotActive: .currentCardNotActive
            case .currentCardExpired: .currentCardExpired
            case .currentCardRevoked: .currentCardRevoked
            case .sameCard: .sameCard
            case .newCardExpired: .newCardExpired
            case .newCardNotYetValid: .newCardNotYetValid
            case .newCardRevoked: .newCardRevoked
            case .newCardAlreadyRegistered: .newCardAlreadyRegistered
            case .companyNameMismatch: .companyNameMismatch
            case .holderMismatch: .holderMismatch
            case .certificateUntrusted: .certificateUntrusted
            case .notAtStep: .notAtStep
            case .stepInProgress: .stepInProgress
            case .flowRestarted: .flowRestarted
            case .cancelled: .cancelled
            case .registrationChanged: .registrationChanged
            case .confirmationExpired: .confirmationExpired
            case .registration: .registration
            case .flowNotFound: .flowNotFound
            case .flowExpired: .flowExpired
            case .certificateNotRegistered: .certificateNotRegistered
            case .registeredCertificateNotActive: .registeredCertificateNotActive
            case .registeredCertificateRevoked: .registeredCertificateRevoked
            case .certificateTypeMismatch: .certificateTypeMismatch
            case .wrongFilePassword: .wrongFilePassword
            case .fileUnreadable: .fileUnreadable
            case .myNumberCard: .myNumberCard
            case .jpkiConsentRequired: .jpkiConsentRequired
            case .jpkiCertificateNotRenewed: .jpkiCertificateNotRenewed
            case .jpkiDetailsChanged: .jpkiDetailsChanged
            case .jpkiLinkageUnavailable: .jpkiLinkageUnavailable
            case .powerOfAttorneyStillValid: .powerOfAttorneyStillValid
            case .notAnAgentWithPowerOfAttorney: .notAnAgentWithPowerOfAttorney
            case .agentCertificateNotActive: .agentCertificateNotActive
            case .agentCardMismatch: .agentCardMismatch
            case .powerOfAttorneyRequestFailed: .powerOfAttorneyRequestFailed
            case .powerOfAttorneyMismatch: .powerOfAttorneyMismatch
            case .powerOfAttorneyRequestInvalid: .powerOfAttorneyRequestInvalid
            case .deletionNotAcknowledged: .deletionNotAcknowledged
            case .agentCertificateInvalid: .agentCertificateInvalid
            case .paperProcedureRequired: .paperProcedureRequired
            case .alreadyRevoked: .alreadyRevoked
            case .documentsNotOpened: .documentsNotOpened
            case .requestFormInvalid: .requestFormInvalid
            case .confirmationNotChecked: .confirmationNotChecked
            case .revocationAlreadySubmitted: .revocationAlreadySubmitted
            case .revocationRefused: .revocationRefused
            case .revocationNotAnswered: .revocationNotAnswered
            case .contractIDFormat: .contractIDFormat
            case .signInRejected: .signInRejected
            case .serviceLocked: .serviceLocked
            case .administratorCertificateRefused: .administratorCertificateRefused
            case .notTheAdministrator: .notTheAdministrator
            case .reissueUserNotFound: .reissueUserNotFound
            case .enrollmentCodeInvalid: .enrollmentCodeInvalid
            case .enrollmentCodeExpired: .enrollmentCodeExpired
            case .certificateRequestRefused: .certificateRequestRefused
            case .issuedCertificateMismatch: .issuedCertificateMismatch
            case .certificateAuthorityUnavailable: .certificateAuthorityUnavailable
            case .credentialNotCreated: .credentialNotCreated
            case .reissueStoreFailure: .reissueStoreFailure
            }
        }
    }
}

extension String {
    /// The string with its first character upper-cased (“the current card …” at a sentence's start).
    var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
