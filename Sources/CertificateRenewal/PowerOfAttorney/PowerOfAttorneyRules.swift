import CardCredentials
import Foundation
import Registration
import X509

/// The rules of the expired power of attorney (seed 002: マイナンバーカード電子委任状更新 and 利用者情報削除), shared by
/// the flow that reads the card itself (``PowerOfAttorneyFlow``) and the one a server drives with evidence
/// (``RemotePowerOfAttorney``).
struct PowerOfAttorneyRules: Sendable {
    let userID: UserID
    let businessID: BusinessID
    let environment: LifecycleEnvironment
    let provider: any ElectronicPOAProvider
    let linkage: (any JPKILinkageService)?

    /// The 失効画面: the user must be an active agent with an active My Number certificate whose power of attorney
    /// expired.
    func expiredNotice() async throws(LifecycleError) -> (PowerOfAttorneyExpiredNotice, CertificateBinding) {
        let registration = try await registration()
        let now = environment.service.now()
        let user: User
        do { user = try registration.user(userID) } catch { throw .registration(error) }
        guard user.status == .active else { throw .registration(.userDeleted(userID)) }
        guard user.role == .agent, let attorney = registration.currentPowerOfAttorney(of: userID) else {
            throw .notAnAgentWithPowerOfAttorney
        }
        guard
            let binding = registration.activeBindings(of: userID, at: now).first(where: { $0.kind == .myNumberCard })
        else {
            // The agent's My Number certificate, if it has one, is no longer active: say what it is.
            let latest = registration.bindings.last { $0.userID == userID && $0.kind == .myNumberCard }
            guard let latest else { throw .notAnAgentWithPowerOfAttorney }
            throw .agentCertificateNotActive(latest.status(at: now))
        }
        guard !attorney.isValid(at: now) else { throw .powerOfAttorneyStillValid(validUntil: attorney.validUntil) }
        let notice = PowerOfAttorneyExpiredNotice(
            agentID: userID, agentName: user.information.name, powerOfAttorney: attorney)
        return (notice, binding)
    }

    /// The card of a renewal: its signing certificate is the agent's registered one, valid now.
    func checkRenewalCard(_ credential: UpdateCredential, binding: CertificateBinding) async throws(LifecycleError) {
        guard credential.fingerprint == binding.fingerprint else { throw .agentCardMismatch }
        switch await environment.validation(of: credential, at: environment.service.now()) {
        case .valid: break
        case let failure: throw .agentCertificateInvalid(.signing, reason: failure.description)
        }
    }

    /// 取得依頼: the provider's fresh power of attorney for `applicationNumber`, checked against the registration,
    /// and the change prepared (nothing stored).
    func requestPowerOfAttorney(
        applicationNumber: String, card: UpdateCredential, binding: CertificateBinding,
        notice: PowerOfAttorneyExpiredNotice
    ) async throws(LifecycleError) -> (PreparedChange, PowerOfAttorneyConfirmation) {
        let number = applicationNumber.trimmingCharacters(in: .whitespaces)
        guard !number.isEmpty else { throw .powerOfAttorneyRequestInvalid(field: "申込番号", reason: "it is empty") }
        guard number.count <= 64,
            number.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
            })
        else {
            throw .powerOfAttorneyRequestInvalid(
                field: "申込番号", reason: "it takes up to 64 half-width letters, digits and hyphens")
        }
        let registration = try await registration()
        let user: User
        do { user = try registration.user(userID) } catch { throw .registration(error) }
        let business = registration.business
        let request = PowerOfAttorneyRequest(
            principal: "\(business.name) \(business.representativeTitle) \(business.representativeName)",
            corporateNumber: business.corporateNumber?.digits, agent: user.information.name,
            agentCertificate: card.certificate, applicationNumber: number,
            previousReference: notice.powerOfAttorney.reference)
        let issued: IssuedPowerOfAttorney
        do { issued = try await provider.requestPowerOfAttorney(request) } catch {
            throw .powerOfAttorneyRequestFailed(reason: String(describing: error))
        }
        let now = environment.service.now()
        guard Self.compact(issued.principal).contains(Self.compact(business.name)) else {
            throw .powerOfAttorneyMismatch(field: "委任者", reason: "it does not name \(business.name)")
        }
        guard Self.compact(issued.agent) == Self.compact(user.information.name) else {
            throw .powerOfAttorneyMismatch(
                field: "受任者", reason: "it names \(issued.agent), not \(user.information.name)")
        }
        guard issued.validFrom <= now, now <= issued.validUntil else {
            throw .powerOfAttorneyMismatch(
                field: "有効期間",
                reason: "it is in force from \(CertificateSummary.japanDate(issued.validFrom)) to "
                    + "\(CertificateSummary.japanDate(issued.validUntil)), not today")
        }
        let attorney: PowerOfAttorney
        do {
            attorney = try PowerOfAttorney(
                agentID: userID, principal: issued.principal, agent: issued.agent, authority: issued.authority,
                validFrom: issued.validFrom, validUntil: issued.validUntil, provider: provider.name,
                reference: issued.reference)
        } catch {
            throw LifecycleError.desk(error)
        }
        return try await prepareRenewal(attorney, binding: binding)
    }

    /// The renewal to `attorney` prepared (nothing stored), and its confirmation screen.
    func prepareRenewal(_ attorney: PowerOfAttorney, binding: CertificateBinding) async throws(LifecycleError)
        -> (PreparedChange, PowerOfAttorneyConfirmation)
    {
        let registration = try await registration()
        let user: User
        do { user = try registration.user(userID) } catch { throw .registration(error) }
        let prepared: PreparedChange
        do {
            prepared = try await environment.service.prepare(
                .renewPowerOfAttorney(userID, attorney), to: businessID, by: .user(userID, binding: binding.id))
        } catch {
            throw LifecycleError.desk(error)
        }
        return (
            prepared,
            PowerOfAttorneyConfirmation(
                powerOfAttorney: attorney, business: registration.business, agent: user, review: prepared.review)
        )
    }

    /// The card of a deletion: its authentication certificate valid, and JPKI pairs it with the agent's
    /// registered signing certificate; then the deletion prepared (nothing stored).
    func prepareDeletion(card credential: UpdateCredential, binding: CertificateBinding)
        async throws(LifecycleError) -> (PreparedChange, AgentDeletionConfirmation)
    {
        guard let linkage else {
            throw .jpkiLinkageUnavailable(reason: "this portal has no link to JPKI configured")
        }
        switch await environment.validation(of: credential, at: environment.service.now()) {
        case .valid: break
        case let failure: throw .agentCertificateInvalid(.authentication, reason: failure.description)
        }
        let paired: (serialNumber: Certificate.SerialNumber, issuer: DistinguishedName)?
        do {
            paired = try await linkage.signingCertificate(
                pairedWithAuthenticationCertificate: credential.certificate.serialNumber,
                issuer: credential.certificate.issuer)
        } catch {
            throw .jpkiLinkageUnavailable(reason: String(describing: error))
        }
        let registered: Certificate
        do { registered = try binding.certificate() } catch { throw .registration(error) }
        guard let paired, paired.serialNumber == registered.serialNumber, paired.issuer == registered.issuer else {
            throw .agentCardMismatch
        }
        let registration = try await registration()
        let prepared: PreparedChange
        do {
            prepared = try await environment.service.prepare(
                .deleteUser(userID), to: businessID, by: .user(userID, binding: binding.id))
        } catch {
            throw LifecycleError.desk(error)
        }
        let user: User
        do { user = try registration.user(userID) } catch { throw .registration(error) }
        return (
            prepared,
            AgentDeletionConfirmation(
                user: user, bindings: registration.activeBindings(of: userID, at: environment.service.now()),
                attorney: registration.currentPowerOfAttorney(of: userID), review: prepared.review)
        )
    }

    /// Commits a prepared renewal or deletion.
    func commit(_ prepared: PreparedChange) async throws(LifecycleError) -> PowerOfAttorneyCompletion {
        do {
            let committed = try await environment.service.commit(prepared)
            return PowerOfAttorneyCompletion(
                changeID: committed.changeID, registration: committed.registration, outbox: committed.outbox)
        } catch {
            throw LifecycleError.desk(error)
        }
    }

    func registration() async throws(LifecycleError) -> BusinessRegistration {
        do {
            guard let registration = try await environment.service.store.registration(businessID) else {
                throw RegistrationError.businessNotFound(businessID)
            }
            return registration
        } catch {
            throw LifecycleError.desk(error)
        }
    }

    /// A name without any spaces (half- or full-width), for comparing names across documents.
    static func compact(_ text: String) -> String {
        String(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    }
}
