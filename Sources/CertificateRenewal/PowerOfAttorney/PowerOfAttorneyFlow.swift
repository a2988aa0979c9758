public import CardCredentials
import Foundation
public import ISO7816
import JPKI
public import Registration
import X509

/// The flow for an agent whose My Number card power of attorney (マイナンバーカード電子委任状) expired (seed 002):
/// renew it (マイナンバーカード電子委任状更新) or delete the agent (利用者情報削除).
///
/// ```swift
/// let flow = PowerOfAttorneyFlow(session: session, slot: slot, environment: environment,
///                                provider: provider, linkage: jpki)
/// try await flow.open()                                           // 電子委任状失効画面
/// try await flow.chooseRenewal()                                  // 電子委任状更新
/// try await flow.readCardForRenewal(signingPIN: pin)              // the agent's card, signing PIN
/// try await flow.request(applicationNumber: "POA-2026-0001")      // 取得依頼
/// guard case .confirmRenewal(let confirmation) = await flow.step else { return }
/// try await flow.renew()                                          // 電子委任状更新
/// ```
///
/// or, after ``open()``: ``chooseDeletion()``, ``readCardForDeletion(authenticationPIN:allowLastTry:)`` with the
/// 4-digit user-authentication PIN, and ``delete(acknowledgingIrreversible:)``.
///
/// The rules:
/// - The user must be an active agent (代理人) registered with a My Number card whose current power of attorney
///   expired; while it is in force the flow refuses (``LifecycleError/powerOfAttorneyStillValid(validUntil:)``).
/// - Renewal: the card's signing certificate must be the agent's active registered certificate, valid now (a
///   certificate JPKI revoked needs 電子証明書更新 first), and its key signs a challenge. The
///   ``ElectronicPOAProvider`` returns the fresh power of attorney; it must name the registered business (委任者)
///   and the agent (受任者) and be in force now. The change is
///   `RegistrationChange.renewPowerOfAttorney`, made by the agent (`RegistrationActor.user`): the rights allow an agent whose
///   power of attorney expired exactly this.
/// - Deletion: the authentication key (4-digit PIN) signs a challenge, its certificate must be valid, and JPKI
///   (``JPKILinkageService/signingCertificate(pairedWithAuthenticationCertificate:issuer:)``) must pair it with
///   the agent's registered signing certificate: the authentication certificate names no one, so the pairing is
///   what proves the card is the agent's. The change is `RegistrationChange.deleteUser`, irreversible, handed to
///   GEPS.
///
/// Nothing is stored before ``renew()`` or ``delete(acknowledgingIrreversible:)``; ``back()`` (戻る) returns to
/// the 失効画面.
public actor PowerOfAttorneyFlow {
    /// The agent.
    public nonisolated let userID: UserID
    /// The agent's business.
    public nonisolated let businessID: BusinessID
    /// The reader of the My Number card.
    public nonisolated let slot: any CardSlot
    /// The registration desk and the certificate checks (with the JPKI trust anchors).
    public nonisolated let environment: LifecycleEnvironment
    /// The 電子委任状取扱事業者.
    public nonisolated let provider: any ElectronicPOAProvider
    /// The link to JPKI for the deletion (nil: deletion is not available).
    public nonisolated let linkage: (any JPKILinkageService)?

    /// What the front end shows and asks now.
    public private(set) var step: PowerOfAttorneyStep = .start

    private var notice: PowerOfAttorneyExpiredNotice?
    private var binding: CertificateBinding?
    private var card: UpdateCredential?
    private var prepared: PreparedChange?
    private var gate = FlowGate()

    /// A flow for `user` of `business`.
    ///
    /// - Parameters:
    ///   - user: The agent.
    ///   - business: The agent's business.
    ///   - slot: The reader of the My Number card.
    ///   - environment: The registration desk and certificate checks.
    ///   - provider: The 電子委任状取扱事業者 for a renewal.
    ///   - linkage: The JPKI link for a deletion.
    public init(
        user: UserID, of business: BusinessID, slot: any CardSlot, environment: LifecycleEnvironment,
        provider: any ElectronicPOAProvider, linkage: (any JPKILinkageService)?
    ) {
        userID = user
        businessID = business
        self.slot = slot
        self.environment = environment
        self.provider = provider
        self.linkage = linkage
    }

    /// A flow for the agent of a login session (the portal shows the 失効画面 after the login).
    public init(
        session: LoginSession, slot: any CardSlot, environment: LifecycleEnvironment,
        provider: any ElectronicPOAProvider, linkage: (any JPKILinkageService)?
    ) {
        self.init(
            user: session.userID, of: session.businessID, slot: slot, environment: environment, provider: provider,
            linkage: linkage)
    }

    // MARK: 1. The expired power of attorney

    /// Reads the registration: the user must be an agent with a My Number card whose power of attorney expired.
    ///
    /// Next step: ``PowerOfAttorneyStep/expired(_:)``.
    ///
    /// - Throws: ``LifecycleError/notAnAgentWithPowerOfAttorney``,
    ///   ``LifecycleError/agentCertificateNotActive(_:)`` (the agent's My Number certificate expired or was
    ///   replaced), ``LifecycleError/powerOfAttorneyStillValid(validUntil:)``, ``LifecycleError/registration(_:)``.
    public func open() async throws(LifecycleError) {
        let token = try begin(.start) { if case .start = $0 { true } else { false } }
        defer { gate.end(token) }
        let (notice, binding) = try await rules.expiredNotice()
        try gate.check(token)
        self.notice = notice
        self.binding = binding
        step = .expired(notice)
    }

    /// 電子委任状更新 on the 失効画面. Next step: ``PowerOfAttorneyStep/readCardForRenewal``.
    public func chooseRenewal() throws(LifecycleError) {
        try choose(.readCardForRenewal)
    }

    /// 代理人情報削除 on the 失効画面. Next step: ``PowerOfAttorneyStep/readCardForDeletion``.
    public func chooseDeletion() throws(LifecycleError) {
        try choose(.readCardForDeletion)
    }

    // MARK: 2. Renewal

    /// Reads the agent's My Number card with the signing PIN (6–16 characters): the signing certificate must be
    /// the agent's active registered certificate, valid now (trusted, not expired, not on a CRL: JPKI revokes it
    /// after a change of name or address), and its key signs a challenge.
    ///
    /// Next step: ``PowerOfAttorneyStep/requestPowerOfAttorney``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/myNumberCard(_:)`` (PIN, card), ``LifecycleError/agentCardMismatch``,
    ///   ``LifecycleError/agentCertificateInvalid(_:reason:)``, ``LifecycleError/noCardInserted(reader:)``.
    public func readCardForRenewal(signingPIN: SecretPIN, allowLastTry: Bool = false) async throws(LifecycleError) {
        let token = try begin(.readCardForRenewal) { if case .readCardForRenewal = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let binding else { throw .notAtStep(expected: .expired, current: step.name) }
        let connection = try await connectCard()
        let credential = try await UpdateCredential.myNumberSigning(
            from: connection, pin: signingPIN, allowLastTry: allowLastTry)
        try await rules.checkRenewalCard(credential, binding: binding)
        try gate.check(token)
        card = credential
        step = .requestPowerOfAttorney
    }

    /// 取得依頼: asks the 電子委任状取扱事業者 for a fresh power of attorney with the application number the person
    /// entered, checks it fits the registration, and prepares the change (nothing stored).
    ///
    /// Next step: ``PowerOfAttorneyStep/confirmRenewal(_:)``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/powerOfAttorneyRequestInvalid(field:reason:)``,
    ///   ``LifecycleError/powerOfAttorneyRequestFailed(reason:)``, ``LifecycleError/powerOfAttorneyMismatch(field:reason:)``,
    ///   ``LifecycleError/registration(_:)``.
    public func request(applicationNumber: String) async throws(LifecycleError) {
        let token = try begin(.requestPowerOfAttorney) {
            if case .requestPowerOfAttorney = $0 { true } else { false }
        }
        defer { gate.end(token) }
        guard let card, let binding, let notice else {
            throw .notAtStep(expected: .readCardForRenewal, current: step.name)
        }
        let (prepared, confirmation) = try await rules.requestPowerOfAttorney(
            applicationNumber: applicationNumber, card: card, binding: binding, notice: notice)
        try gate.check(token)
        self.prepared = prepared
        step = .confirmRenewal(confirmation)
    }

    /// 電子委任状更新: commits the fresh power of attorney (the expired one superseded), with the GEPS hand-over.
    ///
    /// Next step: ``PowerOfAttorneyStep/renewed(_:)``. When the registration changed since the confirmation,
    /// nothing is stored and the flow returns to ``PowerOfAttorneyStep/start``.
    @discardableResult
    public func renew() async throws(LifecycleError) -> PowerOfAttorneyCompletion {
        guard case .confirmRenewal = step else { throw .notAtStep(expected: .confirmRenewal, current: step.name) }
        let completion = try await commit()
        step = .renewed(completion)
        return completion
    }

    // MARK: 3. Deletion

    /// Reads the agent's My Number card with the user-authentication PIN (4 digits): its key signs a challenge,
    /// its certificate must be valid, and JPKI must pair it with the agent's registered signing certificate; then
    /// the deletion is prepared (nothing stored).
    ///
    /// Next step: ``PowerOfAttorneyStep/confirmDeletion(_:)``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/myNumberCard(_:)`` (PIN, card), ``LifecycleError/agentCardMismatch``,
    ///   ``LifecycleError/agentCertificateInvalid(_:reason:)``, ``LifecycleError/jpkiLinkageUnavailable(reason:)``.
    public func readCardForDeletion(authenticationPIN: SecretPIN, allowLastTry: Bool = false)
        async throws(LifecycleError)
    {
        let token = try begin(.readCardForDeletion) { if case .readCardForDeletion = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let binding else { throw .notAtStep(expected: .expired, current: step.name) }
        guard linkage != nil else {
            throw .jpkiLinkageUnavailable(reason: "this portal has no link to JPKI configured")
        }
        let connection = try await connectCard()
        let credential = try await UpdateCredential.myNumberAuthentication(
            from: connection, pin: authenticationPIN, allowLastTry: allowLastTry)
        let (prepared, confirmation) = try await rules.prepareDeletion(card: credential, binding: binding)
        try gate.check(token)
        self.prepared = prepared
        step = .confirmDeletion(confirmation)
    }

    /// 削除: deletes the agent — irreversible; its certificates end as removed; handed to GEPS.
    ///
    /// Next step: ``PowerOfAttorneyStep/deleted(_:)``.
    ///
    /// - Parameter acknowledgingIrreversible: That the person read that a deleted user cannot be restored.
    /// - Throws: ``LifecycleError/deletionNotAcknowledged`` (the step stays), ``LifecycleError/registrationChanged``,
    ///   ``LifecycleError/registration(_:)``.
    @discardableResult
    public func delete(acknowledgingIrreversible: Bool) async throws(LifecycleError) -> PowerOfAttorneyCompletion {
        guard case .confirmDeletion = step else { throw .notAtStep(expected: .confirmDeletion, current: step.name) }
        guard acknowledgingIrreversible else { throw .deletionNotAcknowledged }
        let completion = try await commit()
        step = .deleted(completion)
        return completion
    }

    /// 戻る: returns to the 失効画面 (or the start when it was not shown yet); nothing was stored.
    ///
    /// - Throws: ``LifecycleError/stepInProgress`` while a commit runs.
    public func back() throws(LifecycleError) {
        try gate.refuseWhileCommitting()
        gate.restart()
        card = nil
        prepared = nil
        switch step {
        case .renewed, .deleted: return
        default: step = notice.map { .expired($0) } ?? .start
        }
    }

    // MARK: - Steps

    private func choose(_ next: PowerOfAttorneyStep) throws(LifecycleError) {
        guard !gate.isBusy else { throw .stepInProgress }
        guard case .expired = step else { throw .notAtStep(expected: .expired, current: step.name) }
        step = next
    }

    private func begin(_ name: PowerOfAttorneyStep.Name, _ matches: (PowerOfAttorneyStep) -> Bool)
        throws(LifecycleError) -> Int
    {
        try gate.begin(atStep: matches(step), else: .notAtStep(expected: name, current: step.name))
    }

    private func commit() async throws(LifecycleError) -> PowerOfAttorneyCompletion {
        guard !gate.isBusy else { throw .stepInProgress }
        guard let prepared else { throw .notAtStep(anyOf: [.confirmRenewal, .confirmDeletion], current: step.name) }
        let token = try gate.begin()
        gate.isCommitting = true
        defer {
            gate.isCommitting = false
            gate.end(token)
        }
        do throws(LifecycleError) {
            let completion = try await rules.commit(prepared)
            self.prepared = nil
            card = nil
            return completion
        } catch {
            let failure = error
            // The store failed and changed nothing: the confirmation stays and may be committed again.
            if failure.isStoreFailure { throw failure }
            gate.restart()
            self.prepared = nil
            card = nil
            notice = nil
            binding = nil
            step = .start
            throw failure
        }
    }

    private func connectCard() async throws(LifecycleError) -> any CardConnection {
        let present: Bool
        do { present = try await slot.waitForCard(timeout: environment.cardWaitTimeout) } catch {
            throw LifecycleError.myNumber(error)
        }
        guard present else { throw .noCardInserted(reader: slot.name) }
        do { return try await slot.connect() } catch { throw LifecycleError.myNumber(error) }
    }

    private var rules: PowerOfAttorneyRules {
        PowerOfAttorneyRules(
            userID: userID, businessID: businessID, environment: environment, provider: provider, linkage: linkage)
    }
}
