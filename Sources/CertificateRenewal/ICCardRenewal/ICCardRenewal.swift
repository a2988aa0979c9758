public import CardCredentials
import Foundation
public import ISO7816
public import Registration

/// IC card renewal (ICカード更新, seeds 000 and 001): a card close to expiry is replaced by a new card, swapped in
/// the same reader, and the user's certificate binding moves to the new card in one transaction.
///
/// A front end drives it step by step; ``step`` says what to show and ask next:
///
/// ```swift
/// let renewal = ICCardRenewal(user: userID, of: businessID, slot: slot, environment: environment)
/// try await renewal.readCurrentCard()                       // 古いICカードの確認 → OK
/// try await renewal.verifyCurrentPIN(try SecretPIN(typed, policy: policy))
/// try await renewal.swapCards()                             // 新しいICカードの確認 → OK (waits for the swap)
/// try await renewal.verifyNewPIN(try SecretPIN(typedNew, policy: policy))
/// guard case .confirm(let confirmation) = await renewal.step else { return }
/// show(confirmation)                                        // 電子証明書更新確認
/// let done = try await renewal.update()                     // 更新; or `await renewal.back()` (戻る)
/// ```
///
/// The rules of the manuals, in the order they are checked:
/// - The current card must carry the user's active registered certificate; it is refused, with the advice to
///   register anew (新規登録), when it expired, was revoked (lost: the CRLs of the environment's validator) or
///   its PIN is blocked (閉塞).
/// - Each PIN is checked for form and tries left before VERIFY (a wrong PIN keeps the step and says how many
///   tries are left), and the card then proves it holds the certificate's key by signing a random challenge.
/// - The new card must not be the current card; its certificate must chain to a trusted CA and be neither
///   expired nor revoked nor registered already; its company name (ICカード業者名称) must be exactly the
///   registered 商号又は名称, and its holder's name (and address, where the current card has one) the current
///   card's. These are checked when the new card is read, before its PIN costs a try.
/// - ``update()`` commits `RegistrationChange.replaceCertificate`: the old binding is superseded
///   (the old card can no longer log in) and the new one is active, with the GEPS hand-over and the mail, in one
///   transaction. Two renewals of one user at once: the first commit wins, the other fails with
///   ``LifecycleError/registrationChanged``.
///
/// Nothing is stored before ``update()``: ``back()`` (戻る) at any step returns to the start and the registration
/// is unchanged. A failed step leaves the flow where it was (a card pulled: insert it again and repeat the step).
public actor ICCardRenewal {
    /// The user whose card is renewed.
    public nonisolated let userID: UserID
    /// The user's business.
    public nonisolated let businessID: BusinessID
    /// The reader both cards go into.
    public nonisolated let slot: any CardSlot
    /// The registration desk, the certificate checks and the card profiles.
    public nonisolated let environment: LifecycleEnvironment
    /// The labels of the confirmation screen.
    public nonisolated let wording: RenewalWording

    /// What the front end shows and asks now.
    public private(set) var step: ICCardRenewalStep = .insertCurrentCard

    private var current: SlotCard?
    private var currentBinding: CertificateBinding?
    private var new: SlotCard?
    private var prepared: PreparedChange?
    private var gate = FlowGate()
    private var rules: ICCardRenewalRules {
        ICCardRenewalRules(userID: userID, businessID: businessID, environment: environment, wording: wording)
    }

    /// A renewal of `user`'s IC card in `business`, with both cards going into `slot`.
    ///
    /// - Parameters:
    ///   - user: The user (代表者 or 代理人) whose card is renewed.
    ///   - business: The user's business.
    ///   - slot: The reader (a `PCSCReaderSlot`, or a simulator's slot).
    ///   - environment: The registration desk, certificate checks and card profiles.
    ///   - wording: The confirmation screen's labels; seed 000's by default.
    public init(
        user: UserID, of business: BusinessID, slot: any CardSlot, environment: LifecycleEnvironment,
        wording: RenewalWording = .businessName
    ) {
        userID = user
        businessID = business
        self.slot = slot
        self.environment = environment
        self.wording = wording
    }

    /// A renewal for the user of a login session.
    public init(
        session: LoginSession, slot: any CardSlot, environment: LifecycleEnvironment,
        wording: RenewalWording = .businessName
    ) {
        self.init(user: session.userID, of: session.businessID, slot: slot, environment: environment, wording: wording)
    }

    // MARK: 1. The current card

    /// 古いICカードの確認 → OK: waits for a card in the reader, reads its certificate and checks it is the user's
    /// active registered certificate, not expired, not revoked, and that its PIN is not blocked.
    ///
    /// Next step: ``ICCardRenewalStep/enterCurrentPIN(triesLeft:)``. On error the step stays
    /// ``ICCardRenewalStep/insertCurrentCard``.
    ///
    /// - Throws: ``LifecycleError/noCardInserted(reader:)``, ``LifecycleError/currentCardNotRegistered``,
    ///   ``LifecycleError/currentCardNotActive(_:)``, ``LifecycleError/currentCardExpired(notAfter:)``,
    ///   ``LifecycleError/currentCardRevoked(date:)``, ``LifecycleError/pinBlocked(_:)`` (these with the advice to
    ///   register anew), ``LifecycleError/certificateUntrusted(_:reason:)``, or a card error.
    public func readCurrentCard() async throws(LifecycleError) {
        let token = try begin(.insertCurrentCard) { if case .insertCurrentCard = $0 { true } else { false } }
        defer { gate.end(token) }
        let present: Bool
        do { present = try await slot.waitForCard(timeout: environment.cardWaitTimeout) } catch {
            throw LifecycleError.card(error, .current)
        }
        guard present else { throw .noCardInserted(reader: slot.name) }
        let card = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .current)
        do throws(LifecycleError) {
            let binding = try await rules.checkCurrent(card.renewalCard, at: environment.service.now())
            let tries = try await triesLeft(card, as: .current)
            try gate.check(token)
            current = card
            currentBinding = binding
            step = .enterCurrentPIN(triesLeft: tries)
        } catch {
            await card.connection.disconnect()
            throw error
        }
    }

    /// PIN番号の入力 → OK for the current card: verifies the PIN (form and tries left first), then has the card
    /// prove it holds its certificate's key.
    ///
    /// Next step: ``ICCardRenewalStep/swapCards``. A wrong PIN keeps the step with the tries left; a PIN that
    /// becomes blocked ends the renewal (back to the start, with the advice to register anew).
    ///
    /// - Parameters:
    ///   - pin: The current card's PIN.
    ///   - allowLastTry: Whether the PIN may be sent when only one try is left.
    public func verifyCurrentPIN(_ pin: SecretPIN, allowLastTry: Bool = false) async throws(LifecycleError) {
        let token = try begin(.enterCurrentPIN) { if case .enterCurrentPIN = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let expected = current else { throw .notAtStep(expected: .insertCurrentCard, current: step.name) }
        let card = try await reconnect(expected, as: .current)
        try gate.check(token)
        current = card
        do throws(LifecycleError) {
            try await card.verifyPINAndProveKey(pin, allowLastTry: allowLastTry, as: .current)
            try gate.check(token)
            step = .swapCards
        } catch {
            try gate.check(token)
            switch error.code {
            case .wrongPIN: step = .enterCurrentPIN(triesLeft: error.triesLeft)
            case .pinBlocked: await restart()
            default: if error.losesConnection { current?.isConnected = false }
            }
            throw error
        }
    }

    // MARK: 2. The card swap

    /// 新しいICカードの確認 → OK: waits until the current card is taken out and a new card is inserted in the same
    /// reader (or finds the new card there already), reads it and checks it (see the type's rules).
    ///
    /// Next step: ``ICCardRenewalStep/enterNewPIN(triesLeft:)``. On error the step stays
    /// ``ICCardRenewalStep/swapCards``: the person inserts another card and presses OK again.
    ///
    /// - Throws: ``LifecycleError/cardNotRemoved(reader:)``, ``LifecycleError/noCardInserted(reader:)``,
    ///   ``LifecycleError/sameCard``, ``LifecycleError/companyNameMismatch(registered:card:)`` (with both names),
    ///   ``LifecycleError/holderMismatch(field:current:new:)``, ``LifecycleError/newCardExpired(notAfter:)``,
    ///   ``LifecycleError/newCardRevoked(date:)``, ``LifecycleError/newCardNotYetValid(notBefore:)``,
    ///   ``LifecycleError/newCardAlreadyRegistered``, ``LifecycleError/certificateUntrusted(_:reason:)``,
    ///   ``LifecycleError/pinBlocked(_:)``, or a card error.
    public func swapCards() async throws(LifecycleError) {
        let token = try begin(.swapCards) { if case .swapCards = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let old = current else { throw .notAtStep(expected: .insertCurrentCard, current: step.name) }
        if old.isConnected {
            await old.connection.disconnect()
            current?.isConnected = false
        }
        let card = try await waitForNewCard(replacing: old)
        do throws(LifecycleError) {
            try await rules.checkNew(card.renewalCard, replacing: old.renewalCard, at: environment.service.now())
            let tries = try await triesLeft(card, as: .new)
            try gate.check(token)
            new = card
            step = .enterNewPIN(triesLeft: tries)
        } catch {
            await card.connection.disconnect()
            throw error
        }
    }

    /// PIN番号の入力 → OK for the new card: verifies the PIN, has the card prove its key, and prepares the change
    /// (nothing is stored).
    ///
    /// Next step: ``ICCardRenewalStep/confirm(_:)``. A wrong PIN keeps the step; a blocked PIN returns to
    /// ``ICCardRenewalStep/swapCards``.
    public func verifyNewPIN(_ pin: SecretPIN, allowLastTry: Bool = false) async throws(LifecycleError) {
        let token = try begin(.enterNewPIN) { if case .enterNewPIN = $0 { true } else { false } }
        defer { gate.end(token) }
        guard let expected = new, let old = current, let binding = currentBinding else {
            throw .notAtStep(expected: .swapCards, current: step.name)
        }
        let card = try await reconnect(expected, as: .new)
        try gate.check(token)
        new = card
        do throws(LifecycleError) {
            try await card.verifyPINAndProveKey(pin, allowLastTry: allowLastTry, as: .new)
        } catch {
            try gate.check(token)
            switch error.code {
            case .wrongPIN: step = .enterNewPIN(triesLeft: error.triesLeft)
            case .pinBlocked:
                await card.connection.disconnect()
                new = nil
                step = .swapCards
            default: if error.losesConnection { new?.isConnected = false }
            }
            throw error
        }
        let prepared: PreparedChange
        let confirmation: RenewalConfirmation
        do throws(LifecycleError) {
            (prepared, confirmation) = try await rules.prepare(
                new: card.renewalCard, replacing: old.renewalCard, binding: binding)
        } catch {
            try gate.check(token)
            await restart()
            throw error
        }
        try gate.check(token)
        self.prepared = prepared
        step = .confirm(confirmation)
    }

    // MARK: 3. Confirmation

    /// 更新: commits the renewal in one transaction — the current card's binding superseded, the new card's
    /// active, the GEPS hand-over and the completion mail written with it.
    ///
    /// Next step: ``ICCardRenewalStep/completed(_:)``. When the registration changed since the confirmation was
    /// prepared (another renewal won) or the confirmation waited too long, nothing is stored and the flow
    /// starts over. When the store itself failed (``LifecycleError/registration(_:)`` with `storeFailure`),
    /// nothing is stored and the flow stays at the confirmation: call `update()` again.
    ///
    /// - Throws: ``LifecycleError/registrationChanged``, ``LifecycleError/confirmationExpired``, or
    ///   ``LifecycleError/registration(_:)``.
    @discardableResult
    public func update() async throws(LifecycleError) -> RenewalCompletion {
        let token = try begin(.confirm) { if case .confirm = $0 { true } else { false } }
        defer { gate.end(token) }
        guard case .confirm(let confirmation) = step, let prepared, let binding = currentBinding else {
            throw .notAtStep(expected: .confirm, current: step.name)
        }
        gate.isCommitting = true
        defer { gate.isCommitting = false }
        let completion: RenewalCompletion
        do throws(LifecycleError) {
            completion = try await rules.commit(prepared, confirmation, binding: binding)
        } catch {
            if !error.isStoreFailure { await restart() }
            throw error
        }
        if let card = new { await card.connection.disconnect() }
        current = nil
        new = nil
        self.prepared = nil
        step = .completed(completion)
        return completion
    }

    /// 戻る: returns to the start (``ICCardRenewalStep/insertCurrentCard``); nothing was stored, so the
    /// registration is unchanged. A call still waiting for a card ends with ``LifecycleError/flowRestarted``
    /// when its wait does (cancel its task to end the wait at once).
    ///
    /// - Throws: ``LifecycleError/stepInProgress`` while ``update()`` is committing (it cannot be taken back).
    public func back() async throws(LifecycleError) {
        try gate.refuseWhileCommitting()
        await restart()
    }

    // MARK: - Steps

    /// Starts a call at the step `name`: refuses another call running, or a call at the wrong step.
    private func begin(_ name: ICCardRenewalStep.Name, _ matches: (ICCardRenewalStep) -> Bool) throws(LifecycleError)
        -> Int
    {
        try gate.begin(atStep: matches(step), else: .notAtStep(expected: name, current: step.name))
    }

    private func restart() async {
        let cards = [current, new].compactMap { $0 }.filter(\.isConnected)
        gate.restart()
        current = nil
        currentBinding = nil
        new = nil
        prepared = nil
        step = .insertCurrentCard
        for card in cards { await card.connection.disconnect() }
    }

    // MARK: - Cards

    /// The card of a PIN step, connected: the one read before, or — after it was pulled and inserted again — the
    /// card in the slot, read again and checked to be the same.
    private func reconnect(_ card: SlotCard, as role: RenewalCardRole) async throws(LifecycleError) -> SlotCard {
        if card.isConnected { return card }
        let present: Bool
        do { present = try await slot.isCardPresent() } catch { throw LifecycleError.card(error, role) }
        guard present else { throw .cardRemoved(role) }
        let again = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: role)
        guard again.fingerprint == card.fingerprint else {
            await again.connection.disconnect()
            throw .differentCardInserted(role)
        }
        return again
    }

    /// The new card: the card in the slot if it is not the current one (the person swapped before pressing OK),
    /// else the card inserted after the current one is taken out.
    ///
    /// While the current card is in, the wait for its removal is cut into one-second pieces, between which the
    /// card in the slot is read again: a swap too quick for the reader to report the empty slot is still seen. A
    /// card that cannot be read because it is on its way in or out (pulled, not answering yet, reset) is looked at
    /// again a moment later, until the wait's time is up.
    private func waitForNewCard(replacing old: SlotCard) async throws(LifecycleError) -> SlotCard {
        let deadline = ContinuousClock.now + environment.cardWaitTimeout
        var pulled = false
        var removalSeen = false
        var lastFailure: LifecycleError?
        while true {
            if try await !present() {
                removalSeen = true
                guard try await waitForCard(environment.cardWaitTimeout) else {
                    throw pulled ? .cardRemoved(.new) : .noCardInserted(reader: slot.name)
                }
            }
            switch try await look(replacing: old) {
            case .new(let card):
                return card
            case .current:
                if removalSeen { throw .sameCard }
            case .inMotion(let failure):
                if failure.code == .cardRemoved { pulled = true }
                lastFailure = failure
                guard ContinuousClock.now < deadline else { throw failure }
                do { try await Task.sleep(for: .milliseconds(200)) } catch { throw .cancelled }
                continue
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw lastFailure ?? .cardNotRemoved(reader: slot.name) }
            if try await waitForRemoval(min(remaining, .seconds(1))) { removalSeen = true }
        }
    }

    /// What a look at the card in the slot found during the swap.
    private enum SwapLook {
        /// Another card than the current one: the new card.
        case new(SlotCard)
        /// The current card, still (or again) in.
        case current
        /// A card that could not be read because it is on its way in or out.
        case inMotion(LifecycleError)
    }

    private func look(replacing old: SlotCard) async throws(LifecycleError) -> SwapLook {
        do {
            let card = try await SlotCard.read(from: slot, profiles: environment.cardProfiles, as: .new)
            if card.fingerprint != old.fingerprint { return .new(card) }
            await card.connection.disconnect()
            return .current
        } catch {
            if error.losesConnection && error.code != .cancelled { return .inMotion(error) }
            throw error
        }
    }

    private func present() async throws(LifecycleError) -> Bool {
        do { return try await slot.isCardPresent() } catch { throw LifecycleError.card(error, .new) }
    }

    private func waitForCard(_ timeout: Duration) async throws(LifecycleError) -> Bool {
        do { return try await slot.waitForCard(timeout: timeout) } catch { throw LifecycleError.card(error, .new) }
    }

    private func waitForRemoval(_ timeout: Duration) async throws(LifecycleError) -> Bool {
        do { return try await slot.waitForRemoval(timeout: timeout) } catch { throw LifecycleError.card(error, .new) }
    }

    /// The PIN's tries left, refusing a blocked PIN.
    private func triesLeft(_ card: SlotCard, as role: RenewalCardRole) async throws(LifecycleError) -> Int? {
        let status: PINStatus
        do { status = try await card.card.pinStatus() } catch { throw LifecycleError.card(error, role) }
        switch status {
        case .blocked: throw .pinBlocked(role)
        case .triesLeft(let tries): return tries
        case .verified: return nil
        }
    }
}
