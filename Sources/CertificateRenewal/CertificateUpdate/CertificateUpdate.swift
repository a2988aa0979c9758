public import CardCredentials
import Foundation
public import ISO7816
import JPKI
import Registration
import X509

/// Certificate update without login (電子証明書更新, seed 002): for a user whose registered certificate no longer
/// logs in (it expired, say), the registered certificate is read and proved, the new one is read (or, for the My
/// Number card, obtained from JPKI), and the binding moves to the new certificate in one transaction.
///
/// A front end drives it step by step; ``step`` says what to show and ask next:
///
/// ```swift
/// let update = CertificateUpdate(slot: slot, environment: environment, linkage: jpki)
/// try await update.choose(.privateCertificate)                    // 更新する電子証明書の種別選択
/// try await update.readCurrentICCard(pin: oldPIN)                 // 読込 + PIN (or readCurrentFile)
/// try await update.readNewICCard(pin: newPIN)                     // card swapped in the reader (or readNewFile)
/// guard case .confirm(let confirmation) = await update.step else { return }
/// show(confirmation)                                              // 電子証明書の更新確認
/// let done = try await update.update()                            // 更新実行; or `await update.back()` (戻る)
/// ```
///
/// For the My Number card, ``readMyNumberCard(signingPIN:consent:allowLastTry:)`` reads the registered signing
/// certificate and, with the user's consent, asks the ``JPKILinkageService`` which signing certificate replaced it:
/// no second card is read, and a certificate revoked because the holder's details changed (affiliationChanged) is
/// not linked.
///
/// The rules, in the order they are checked:
/// - The certificate read must be registered with the portal, to an active user, and its binding must not have
///   ended (superseded, revoked, removed). An expired certificate is allowed: that is what the flow is for. A
///   private certificate its CA revoked (失効) is refused. Reading it proves possession: the PIN or password opens
///   it and its key signs a random challenge.
/// - The new certificate must chain to a trusted CA and be neither expired, not yet valid, revoked nor registered
///   already; a private certificate must carry exactly the registered company name (商号又は名称) and the old
///   certificate's holder (氏名, and 所在地 where the old one had it); a My Number certificate the same name and
///   date of birth.
/// - ``update()`` commits `RegistrationChange.replaceCertificate` with the GEPS hand-over and the completion mail.
///   The actor is `RegistrationActor.portal(operator:)`, not the user: no one is logged in, and the user's certificate may be
///   expired, which the rights check of a user would refuse. The flow proved possession of the registered
///   certificate itself, which is what that check stands for.
///
/// Nothing is stored before ``update()``; ``back()`` (戻る) returns to the type selection. A failed step leaves
/// the flow where it was (a card pulled: insert it again and repeat the step).
public actor CertificateUpdate {
    /// The reader of IC cards and My Number cards (nil: only files can be read).
    public nonisolated let slot: (any CardSlot)?
    /// The registration desk, the certificate checks and the card profiles.
    public nonisolated let environment: LifecycleEnvironment
    /// The link to JPKI for My Number cards (nil: the My Number card cannot be updated here).
    public nonisolated let linkage: (any JPKILinkageService)?
    /// The operator name the commit is recorded under (`RegistrationActor.portal(operator:)`).
    public nonisolated let operatorName: String

    /// What the front end shows and asks now.
    public private(set) var step: CertificateUpdateStep = .chooseType

    private var current: UpdateCredential?
    private var binding: CertificateBinding?
    private var prepared: PreparedChange?
    private var confirmation: CertificateUpdateConfirmation?
    private var gate = FlowGate()

    /// An update flow.
    ///
    /// - Parameters:
    ///   - slot: The reader for IC cards and the My Number card; nil when only files are read.
    ///   - environment: The registration desk, certificate checks (trust anchors for the private CAs and JPKI,
    ///     CRLs) and card profiles.
    ///   - linkage: The JPKI linkage for My Number cards.
    ///   - operatorName: The name the change is recorded under; `電子証明書更新` by default.
    public init(
        slot: (any CardSlot)?, environment: LifecycleEnvironment, linkage: (any JPKILinkageService)? = nil,
        operatorName: String = "電子証明書更新"
    ) {
        self.slot = slot
        self.environment = environment
        self.linkage = linkage
        self.operatorName = operatorName
    }

    // MARK: 1. Type

    /// 更新する電子証明書の種別選択: chooses the certificate type. Next step: ``CertificateUpdateStep/readCurrent(_:)``.
    public func choose(_ type: CertificateUpdateType) throws(LifecycleError) {
        guard !gate.isBusy else { throw .stepInProgress }
        guard case .chooseType = step else { throw .notAtStep(expected: .chooseType, current: step.name) }
        step = .readCurrent(type)
    }

    // MARK: 2. The registered certificate

    /// 読込 of a registered IC card: waits for the card, checks its certificate is registered and may be updated,
    /// then verifies the PIN (tries left first) and has the card sign a challenge.
    ///
    /// Next step: ``CertificateUpdateStep/readNew``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/certificateNotRegistered``, ``LifecycleError/registeredCertificateNotActive(_:)``,
    ///   ``LifecycleError/registeredCertificateRevoked(date:)``, ``LifecycleError/certificateTypeMismatch(registered:)``,
    ///   ``LifecycleError/certificateUntrusted(_:reason:)``, a PIN error, or a card error.
    public func readCurrentICCard(pin: SecretPIN, allowLastTry: Bool = false) async throws(LifecycleError) {
        let token = try begin(.privateCertificate)
        defer { gate.end(token) }
        let slot = try await waitForCard()
        let card = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .current)
        let credential: UpdateCredential
        let binding: CertificateBinding
        do throws(LifecycleError) {
            credential = try UpdateCredential(kind: .icCard, certificate: card.certificate, chain: card.chain)
            binding = try await registeredBinding(of: credential, type: .privateCertificate)
            try await card.verifyPINAndProveKey(pin, allowLastTry: allowLastTry, as: .current)
        } catch {
            await card.connection.disconnect()
            throw error
        }
        await card.connection.disconnect()
        try gate.check(token)
        accept(current: credential, binding: binding)
    }

    /// 読込 of a registered file-type certificate (PKCS#12): opens it with its password, has its key sign a
    /// challenge, and checks it is registered and may be updated.
    ///
    /// Next step: ``CertificateUpdateStep/readNew``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/wrongFilePassword(_:)``, ``LifecycleError/fileUnreadable(_:reason:)``, and the
    ///   registration refusals of ``readCurrentICCard(pin:allowLastTry:)``.
    public func readCurrentFile(_ pkcs12: [UInt8], password: SecretPIN) async throws(LifecycleError) {
        let token = try begin(.privateCertificate)
        defer { gate.end(token) }
        let credential = try await UpdateCredential.file(pkcs12, password: password, as: .current)
        let binding = try await registeredBinding(of: credential, type: .privateCertificate)
        try gate.check(token)
        accept(current: credential, binding: binding)
    }

    /// 読込 of the registered My Number card: with the user's `consent`, reads the signing certificate with the
    /// signing PIN (6–16 characters), has the card sign a challenge, checks the certificate is registered, asks
    /// JPKI which certificate replaced it (only a renewal, `superseded`, is linked), checks the new certificate and
    /// prepares the change.
    ///
    /// Next step: ``CertificateUpdateStep/confirm(_:)``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/jpkiConsentRequired``, ``LifecycleError/myNumberCard(_:)`` (PIN, card),
    ///   the registration refusals, ``LifecycleError/jpkiCertificateNotRenewed``,
    ///   ``LifecycleError/jpkiDetailsChanged``, ``LifecycleError/jpkiLinkageUnavailable(reason:)``, and the checks
    ///   of the new certificate.
    public func readMyNumberCard(signingPIN: SecretPIN, consent: Bool, allowLastTry: Bool = false)
        async throws(LifecycleError)
    {
        let token = try begin(.myNumberCard)
        defer { gate.end(token) }
        guard consent else { throw .jpkiConsentRequired }
        guard linkage != nil else {
            throw .jpkiLinkageUnavailable(reason: "this portal has no link to JPKI configured")
        }
        let slot = try await waitForCard()
        let connection: any CardConnection
        do { connection = try await slot.connect() } catch { throw LifecycleError.myNumber(error) }
        let credential = try await UpdateCredential.myNumberSigning(
            from: connection, pin: signingPIN, allowLastTry: allowLastTry)
        let binding = try await registeredBinding(of: credential, type: .myNumberCard)
        let new = try await rules.successor(of: credential)
        try gate.check(token)
        try await prepare(new, replacing: credential, binding: binding, token: token)
    }

    // MARK: 3. The new certificate (private certificates)

    /// 読込 of the new IC card: waits until a card other than the registered one is in the reader (the person
    /// swaps the cards in the same reader), checks its certificate, verifies its PIN, has it sign a challenge and
    /// prepares the change.
    ///
    /// Next step: ``CertificateUpdateStep/confirm(_:)``. On error the step stays.
    ///
    /// - Throws: ``LifecycleError/cardNotRemoved(reader:)``, ``LifecycleError/noCardInserted(reader:)``,
    ///   ``LifecycleError/sameCard``, ``LifecycleError/newCardExpired(notAfter:)``,
    ///   ``LifecycleError/newCardRevoked(date:)``, ``LifecycleError/newCardNotYetValid(notBefore:)``,
    ///   ``LifecycleError/newCardAlreadyRegistered``, ``LifecycleError/companyNameMismatch(registered:card:)``,
    ///   ``LifecycleError/holderMismatch(field:current:new:)``, ``LifecycleError/certificateUntrusted(_:reason:)``,
    ///   a PIN error or a card error.
    public func readNewICCard(pin: SecretPIN, allowLastTry: Bool = false) async throws(LifecycleError) {
        let token = try beginNew()
        defer { gate.end(token) }
        guard let old = current, let binding else { throw .notAtStep(expected: .readCurrent, current: step.name) }
        let slot = try await waitForNewCard(replacing: old)
        let card = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .new)
        let new: UpdateCredential
        do throws(LifecycleError) {
            new = try UpdateCredential(kind: .icCard, certificate: card.certificate, chain: card.chain)
            try await check(new, replacing: old)
            try await card.verifyPINAndProveKey(pin, allowLastTry: allowLastTry, as: .new)
        } catch {
            await card.connection.disconnect()
            throw error
        }
        await card.connection.disconnect()
        try gate.check(token)
        try await prepare(new, replacing: old, binding: binding, token: token)
    }

    /// 読込 of the new file-type certificate: opens it, has its key sign a challenge, checks it and prepares the
    /// change.
    ///
    /// Next step: ``CertificateUpdateStep/confirm(_:)``. On error the step stays.
    public func readNewFile(_ pkcs12: [UInt8], password: SecretPIN) async throws(LifecycleError) {
        let token = try beginNew()
        defer { gate.end(token) }
        guard let old = current, let binding else { throw .notAtStep(expected: .readCurrent, current: step.name) }
        let new = try await UpdateCredential.file(pkcs12, password: password, as: .new)
        try await check(new, replacing: old)
        try gate.check(token)
        try await prepare(new, replacing: old, binding: binding, token: token)
    }

    // MARK: 4. Confirmation

    /// 更新実行: commits the update — the old binding superseded, the new one active, the GEPS hand-over and the
    /// completion mail — in one transaction, as `RegistrationActor.portal(operator:)` (see the type's documentation).
    ///
    /// Next step: ``CertificateUpdateStep/completed(_:)``. When the registration changed since the confirmation
    /// (another change won) or the confirmation waited too long, nothing is stored and the flow starts over. When
    /// the store itself failed (``LifecycleError/registration(_:)`` with `storeFailure`), nothing is stored and
    /// the flow stays at the confirmation: call `update()` again.
    ///
    /// - Throws: ``LifecycleError/registrationChanged``, ``LifecycleError/confirmationExpired``,
    ///   ``LifecycleError/registration(_:)``.
    @discardableResult
    public func update() async throws(LifecycleError) -> CertificateUpdateCompletion {
        guard !gate.isBusy else { throw .stepInProgress }
        guard case .confirm(let confirmation) = step, let prepared, let binding else {
            throw .notAtStep(expected: .confirm, current: step.name)
        }
        let token = try gate.begin()
        gate.isCommitting = true
        defer {
            gate.isCommitting = false
            gate.end(token)
        }
        let completion: CertificateUpdateCompletion
        do throws(LifecycleError) {
            completion = try await rules.commit(prepared, confirmation, binding: binding)
        } catch {
            if !error.isStoreFailure { restart() }
            throw error
        }
        current = nil
        self.prepared = nil
        step = .completed(completion)
        return completion
    }

    /// 戻る: returns to the type selection; nothing was stored. A call still waiting for a card ends with
    /// ``LifecycleError/flowRestarted``.
    ///
    /// - Throws: ``LifecycleError/stepInProgress`` while ``update()`` is committing.
    public func back() throws(LifecycleError) {
        try gate.refuseWhileCommitting()
        restart()
    }

    // MARK: - Steps

    private func begin(_ type: CertificateUpdateType) throws(LifecycleError) -> Int {
        guard case .readCurrent(let chosen) = step else {
            return try gate.begin(atStep: false, else: .notAtStep(expected: .readCurrent, current: step.name))
        }
        return try gate.begin(
            atStep: chosen == type,
            else: .notAtStep(expected: "readCurrent(\(type.rawValue))", current: "readCurrent(\(chosen.rawValue))"))
    }

    private func beginNew() throws(LifecycleError) -> Int {
        let atStep = if case .readNew = step { true } else { false }
        return try gate.begin(atStep: atStep, else: .notAtStep(expected: .readNew, current: step.name))
    }

    private func restart() {
        gate.restart()
        current = nil
        binding = nil
        prepared = nil
        step = .chooseType
    }

    private func accept(current credential: UpdateCredential, binding: CertificateBinding) {
        current = credential
        self.binding = binding
        step = .readNew
    }

    // MARK: - Cards

    private func waitForCard() async throws(LifecycleError) -> any CardSlot {
        guard let slot else { throw .noCardInserted(reader: "no card reader (none is configured)") }
        let present: Bool
        do { present = try await slot.waitForCard(timeout: environment.cardWaitTimeout) } catch {
            throw LifecycleError.card(error, .current)
        }
        guard present else { throw .noCardInserted(reader: slot.name) }
        return slot
    }

    /// Waits until the card in the slot is not the old one: the old card taken out (if it is in) and another
    /// inserted. The wait for the removal is cut into one-second pieces between which the slot is read again, so
    /// a swap too quick for the reader to report is still seen.
    private func waitForNewCard(replacing old: UpdateCredential) async throws(LifecycleError) -> any CardSlot {
        guard let slot else { throw .noCardInserted(reader: "no card reader (none is configured)") }
        let deadline = ContinuousClock.now + environment.cardWaitTimeout
        do {
            while true {
                let remaining = deadline - ContinuousClock.now
                if try await slot.isCardPresent() {
                    switch try await fingerprint(in: slot) {
                    case nil: continue  // taken out while being read: the swap is under way
                    case old.fingerprint: break
                    default: return slot
                    }
                    guard remaining > .zero else { throw LifecycleError.cardNotRemoved(reader: slot.name) }
                    _ = try await slot.waitForRemoval(timeout: min(remaining, .seconds(1)))
                } else {
                    guard remaining > .zero, try await slot.waitForCard(timeout: remaining) else {
                        throw LifecycleError.noCardInserted(reader: slot.name)
                    }
                }
            }
        } catch {
            throw LifecycleError.card(error, .new)
        }
    }

    /// The fingerprint of the card in the slot, or nil when it was taken out while being read.
    private func fingerprint(in slot: any CardSlot) async throws(LifecycleError) -> String? {
        let card: SlotCard
        do {
            card = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .new)
        } catch {
            if error.code == .cardRemoved { return nil }
            throw error
        }
        await card.connection.disconnect()
        return card.fingerprint
    }

    // MARK: - Rules

    private var rules: CertificateUpdateRules {
        CertificateUpdateRules(environment: environment, linkage: linkage, operatorName: operatorName)
    }

    private func registeredBinding(of credential: UpdateCredential, type: CertificateUpdateType)
        async throws(LifecycleError) -> CertificateBinding
    {
        try await rules.registeredBinding(of: credential, type: type)
    }

    private func check(_ new: UpdateCredential, replacing old: UpdateCredential) async throws(LifecycleError) {
        try await rules.check(new, replacing: old)
    }

    private func prepare(
        _ new: UpdateCredential, replacing old: UpdateCredential, binding: CertificateBinding, token: Int
    ) async throws(LifecycleError) {
        let (prepared, confirmation) = try await rules.prepare(new, replacing: old, binding: binding)
        try gate.check(token)
        current = old
        self.binding = binding
        self.prepared = prepared
        step = .confirm(confirmation)
    }

    /// Whether two names are the same (exactly, ignoring only spaces at the ends).
    static func same(_ a: String, _ b: String) -> Bool { CertificateUpdateRules.same(a, b) }
}
