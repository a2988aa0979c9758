import CardCredentials
import Foundation
import Registration
import X509

/// The rules of the revocation request, shared by the in-process flow (``RevocationRequest``) and the server's
/// (``RemoteRevocationRequest``): the conditions of the online request, the request's content, and the record of
/// the revocation in the portal's registration.
struct RevocationRequestRules: Sendable {
    let environment: LifecycleEnvironment

    /// The conditions of the online request, from the certificate alone: trusted, not revoked already, not
    /// expired, and more than 30 days of validity left.
    func checkConditions(_ certificate: Certificate, chain: [Certificate]) async throws(LifecycleError) {
        let now = environment.service.now()
        var validator = environment.validator
        validator.intermediates += chain
        switch await validator.validate(certificate, for: .any, at: now) {
        case .valid: break
        case .expired(let notAfter, _): throw .paperProcedureRequired(.expired(notAfter: notAfter))
        case .revoked(_, let date, _): throw .alreadyRevoked(date: date)
        case let failure: throw .certificateUntrusted(.current, reason: failure.description)
        }
        let notAfter = certificate.notValidAfter
        guard notAfter.timeIntervalSince(now) > TimeInterval(RevocationRequest.closingDays * 86_400) else {
            throw .paperProcedureRequired(.validityEndsWithin30Days(notAfter: notAfter))
        }
    }

    /// The request for `certificate` as the form says, under a new request ID, dated now.
    func content(certificate: Certificate, fingerprint: String, form: RevocationRequestForm)
        -> RevocationRequestContent
    {
        RevocationRequestContent(
            requestID: UUID().uuidString.lowercased(), certificate: certificate, fingerprint: fingerprint, form: form,
            at: environment.service.now())
    }

    /// Sends `request` to `authority` and returns the receipt. A refusal (`revocationRefused`: the CA recorded
    /// nothing) is thrown as it is; any other failure, and a receipt for another request, is
    /// `revocationNotAnswered`: the same request may be sent again.
    func send(_ request: SignedRevocationRequest, to authority: any RevocationAuthority) async throws(LifecycleError)
        -> RevocationReceipt
    {
        let receipt: RevocationReceipt
        do {
            receipt = try await authority.submit(request)
        } catch let error as LifecycleError where error.code == .revocationRefused {
            throw error
        } catch let error as LifecycleError {
            throw .revocationNotAnswered(reason: error.description)
        } catch {
            throw .revocationNotAnswered(reason: String(describing: error))
        }
        guard receipt.requestID == request.requestID else {
            throw .revocationNotAnswered(
                reason: "the answer names request \(receipt.requestID), not \(request.requestID)")
        }
        return receipt
    }

    /// Records the certificate's binding as revoked, if the portal has one; a concurrent change is retried.
    func recordInRegistration(fingerprint: String) async -> RevocationPortalUpdate {
        let service = environment.service
        var lastError = RegistrationError.storeFailure("the registration kept changing")
        for _ in 0..<3 {
            do {
                guard let registration = try await service.store.registration(boundTo: fingerprint),
                    let binding = registration.bindings.last(where: { $0.fingerprint == fingerprint })
                else { return .notRegistered }
                if binding.recordedStatus == .revoked { return .recordedAlready(binding: binding.id) }
                let prepared = try await service.prepare(
                    .markCertificateRevoked(binding.id), to: registration.id,
                    by: .portal(operator: RevocationRequest.portalOperator))
                let committed = try await service.commit(prepared)
                return .markedRevoked(binding: binding.id, change: committed.changeID)
            } catch .staleChange(let id) {
                lastError = .staleChange(id)
                continue
            } catch {
                return .failed(error)
            }
        }
        return .failed(lastError)
    }
}
