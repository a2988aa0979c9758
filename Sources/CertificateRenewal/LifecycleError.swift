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

/// What can go wrong in a lifecycle flow; each description says what the person should do next.
///
/// A flow that throws one of these stays at the step it was at unless the case says otherwise, so the front end
/// shows the message and lets the person try again, or go back (戻る). No case ever carries a PIN.
public enum LifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    // MARK: The reader

    /// No card was inserted into `reader` before the wait ended.
    case noCardInserted(reader: String)
    /// The card in `reader` was not taken out before the wait ended (the card swap of an IC card renewal).
    case cardNotRemoved(reader: String)
    /// The card left the reader during the step; nothing was changed.
    case cardRemoved(RenewalCardRole)
    /// After the card was pulled, another card came back in its place.
    case differentCardInserted(RenewalCardRole)
    /// The card could not be read: it is not an IC card this portal knows, the link failed, or its answer is
    /// damaged; `reason` is the card module's error.
    case cardUnreadable(RenewalCardRole, reason: CardCredentialsError)

    // MARK: PINs

    /// The PIN does not have the card's form; nothing was sent to the card and no try was spent.
    case pinFormat(RenewalCardRole, PINFormatProblem)
    /// The card refused the PIN; `triesLeft` more wrong tries are allowed before it is blocked (閉塞).
    case wrongPIN(RenewalCardRole, triesLeft: Int)
    /// Only one try is left and spending it was not allowed; the PIN was not sent.
    case lastTryRefused(RenewalCardRole)
    /// The card's PIN is blocked (閉塞). For the current card the renewal is not available (新規登録).
    case pinBlocked(RenewalCardRole)
    /// The card accepted its PIN but its key did not sign for the certificate it carries.
    case cardKeyMismatch(RenewalCardRole)

    // MARK: The current card: when IC card renewal is not available

    /// The current card's certificate is not a certificate of this user in the registration.
    case currentCardNotRegistered
    /// The current card's certificate is registered, but no longer active (superseded, removed, revoked).
    case currentCardNotActive(BindingStatus)
    /// The current card expired (有効期限切れ): renewal is not available; register anew (新規登録).
    case currentCardExpired(notAfter: Date)
    /// The current card was revoked (失効, e.g. lost): renewal is not available; register anew (新規登録).
    case currentCardRevoked(date: Date)

    // MARK: The new card

    /// The card or file given as the new one holds the current certificate.
    case sameCard
    /// The new certificate (of a new IC card, file or My Number card) expired (有効期限切れ).
    case newCardExpired(notAfter: Date)
    /// The new card's certificate is not valid yet.
    case newCardNotYetValid(notBefore: Date)
    /// The new card's certificate was revoked (失効).
    case newCardRevoked(date: Date)
    /// The new card's certificate is registered already (to this or another user).
    case newCardAlreadyRegistered
    /// The new card's company name (ICカード業者名称) is not exactly the registered 商号又は名称; `card` is nil
    /// when the certificate carries none.
    case companyNameMismatch(registered: String, card: String?)
    /// The new card's holder differs from the current card's: `field` is the screen's label
    /// (ICカード取得者氏名 or ICカード取得者所在地).
    case holderMismatch(field: String, current: String, new: String)

    // MARK: Either card

    /// The card's certificate did not pass validation for another reason (no chain to a trusted CA, a stale or
    /// missing revocation list); `reason` is the validator's sentence.
    case certificateUntrusted(RenewalCardRole, reason: String)

    // MARK: The flow

    /// The call does not belong to the flow's current step (`current`); `expected` names the step it needs.
    case notAtStep(expected: String, current: String)
    /// Another call of the same flow is still running (waiting for a card, talking to it).
    case stepInProgress
    /// The flow went back to its start (戻る) while this call was running; its result was dropped.
    case flowRestarted
    /// The wait was cancelled.
    case cancelled
    /// The registration changed after the confirmation screen was prepared (another renewal or change won);
    /// nothing was stored and the flow starts over.
    case registrationChanged
    /// The confirmation screen waited longer than its time limit; nothing was stored and the flow starts over.
    case confirmationExpired
    /// The registration desk refused or failed; `reason` is its error.
    case registration(RegistrationError)
    /// No stored flow has this identifier (a server's flow: it was never started, completed long ago, or
    /// belongs to another user).
    case flowNotFound(String)
    /// The stored flow's time ran out; nothing was stored, start again.
    case flowExpired(String)

    // MARK: Certificate update, power-of-attorney renewal and agent deletion (電子証明書更新, 電子委任状更新, 利用者情報削除)

    /// The certificate read is not a certificate the portal has registered (to any user).
    case certificateNotRegistered
    /// The certificate read is registered, but its binding ended (superseded, revoked or removed), so it cannot
    /// be updated.
    case registeredCertificateNotActive(BindingStatus)
    /// The registered private certificate read was revoked by its certification authority (失効).
    case registeredCertificateRevoked(date: Date)
    /// The certificate type chosen does not hold the registered certificate (`registered` is its kind).
    case certificateTypeMismatch(registered: CredentialKind)
    /// The PKCS#12 file's password was wrong; nothing was read.
    case wrongFilePassword(RenewalCardRole)
    /// The PKCS#12 file could not be opened; `reason` is the credential module's error.
    case fileUnreadable(RenewalCardRole, reason: CardCredentialsError)
    /// The My Number card refused or failed; `reason` is the JPKI module's error (wrong or blocked PIN, pulled
    /// card, not a My Number card).
    case myNumberCard(JPKIError)
    /// The user did not consent to the portal asking JPKI (公的個人認証サービス) for the linkage of the old card.
    case jpkiConsentRequired
    /// JPKI knows no signing certificate that replaced the registered one (it was not renewed yet).
    case jpkiCertificateNotRenewed
    /// JPKI revoked the registered signing certificate because the holder's details changed
    /// (affiliationChanged), not for a renewal: the new certificate is not linked.
    case jpkiDetailsChanged
    /// The JPKI linkage service could not answer; `reason` says why.
    case jpkiLinkageUnavailable(reason: String)
    /// The agent's power of attorney (電子委任状) is still in force until `validUntil`: this flow is for an
    /// expired one.
    case powerOfAttorneyStillValid(validUntil: Date)
    /// The user is not an agent (代理人) registered with a My Number card and a power of attorney.
    case notAnAgentWithPowerOfAttorney
    /// The agent's registered My Number card certificate is no longer active (expired, superseded, revoked,
    /// removed): it cannot prove who acts.
    case agentCertificateNotActive(BindingStatus)
    /// The My Number card read is not the card the agent is registered with.
    case agentCardMismatch
    /// The 電子委任状取扱事業者 refused or failed the request; `reason` is its answer.
    case powerOfAttorneyRequestFailed(reason: String)
    /// The power of attorney the provider returned does not fit the registration: `field` (委任者, 受任者 or
    /// 有効期間) says where.
    case powerOfAttorneyMismatch(field: String, reason: String)
    /// A field of the request to the 電子委任状取扱事業者 is missing or malformed.
    case powerOfAttorneyRequestInvalid(field: String, reason: String)
    /// The deletion was not confirmed as irreversible (削除した利用者情報を元に戻すことはできません).
    case deletionNotAcknowledged
    /// A certificate on the agent's My Number card (the signing or the user-authentication one) is not valid now —
    /// revoked (失効; JPKI revokes the signing one after a change of name or address), expired or not trusted;
    /// `reason` says which check failed.
    case agentCertificateInvalid(JPKICertificateKind, reason: String)

    // MARK: Revocation request (インターネット失効申込)

    /// The online revocation request is not available for this card; the paper procedure (書面による失効申込)
    /// applies. `reason` says why.
    case paperProcedureRequired(PaperProcedureReason)
    /// The card's certificate was revoked (失効) already, on `date`; there is nothing to request.
    case alreadyRevoked(date: Date)
    /// 同意して次へ was pressed before the documents named in `missing` (手続きの流れ, 利用規約) were opened.
    case documentsNotOpened(missing: [String])
    /// A field of the request form (失効申込情報入力) is missing or malformed: `field` is its label.
    case requestFormInvalid(field: String, problem: String)
    /// 失効申込をする(確定) was pressed before 上記内容を確認しました was ticked.
    case confirmationNotChecked
    /// The request was sent already, so it can be neither corrected nor withdrawn.
    case revocationAlreadySubmitted
    /// The certification authority refused the request; `reason` is its answer.
    case revocationRefused(reason: String)
    /// The request was sent but the certification authority's answer did not arrive; `reason` says why.
    case revocationNotAnswered(reason: String)

    // MARK: Certificate reissue (電子証明書の再発行と取得)

    /// The 契約者ID (利用者番号) is not the 11 digits printed on the お客様カード.
    case contractIDFormat
    /// The 契約者ID, user ID or passwords (暗証番号) did not match; `attemptsLeft` more wrong tries are allowed
    /// before the service locks (nil: nothing was counted, e.g. the contract is unknown).
    case signInRejected(attemptsLeft: Int?)
    /// The service is locked (ロック) after too many wrong passwords; `contractWide` when the administrator's
    /// lock-out locks every user of the contract.
    case serviceLocked(contractWide: Bool)
    /// The administrator's certificate login (管理者ログオン) was refused: expired, inactive, not trusted, or a bad
    /// signature; `reason` is the login's error.
    case administratorCertificateRefused(RegistrationError)
    /// The certificate that logged in is not the certificate of this contract's administrator (代表者).
    case notTheAdministrator
    /// The user chosen is not a user (利用者) of this contract.
    case reissueUserNotFound
    /// The enrollment code is unknown, was used already, or belongs to another user.
    case enrollmentCodeInvalid
    /// The enrollment code expired on `expiredAt`.
    case enrollmentCodeExpired(expiredAt: Date)
    /// The certification authority refused the certificate request (CSR); `reason` is its answer.
    case certificateRequestRefused(reason: String)
    /// The certificate the certification authority returned does not fit the request; `reason` says how.
    case issuedCertificateMismatch(reason: String)
    /// The certification authority could not be reached or failed; `reason` says why.
    case certificateAuthorityUnavailable(reason: String)
    /// The key or the PKCS#12 file could not be made; `reason` is the credential module's error.
    case credentialNotCreated(reason: String)
    /// The store of contracts, passwords and enrollment codes failed; `reason` says how.
    case reissueStoreFailure(reason: String)

    /// Whether a commit failed in the store itself (the database could not be written, another program held
    /// it): nothing was stored and the prepared change is still good, so the flow stays at its confirmation and
    /// the person may press the button again.
    var isStoreFailure: Bool {
        if case .registration(.storeFailure) = self { true } else { false }
    }

    /// Whether the case is one of the manual's refusals of IC card renewal that leave only a new registration
    /// (新規登録): the current card expired, revoked (lost) or blocked (閉塞).
    public var requiresNewRegistration: Bool {
        switch self {
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
        switch self {
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
}

extension String {
    /// The string with its first character upper-cased (“the current card …” at a sentence's start).
    var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
