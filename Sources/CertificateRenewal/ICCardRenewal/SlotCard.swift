import CardCredentials
import Foundation
import ISO7816
import Registration
import X509

/// A card read from a slot: its connection and client, its certificate with the CA certificate it carries, and
/// whether the connection is still usable.
struct SlotCard: Sendable {
    var connection: any CardConnection
    var card: ICCard
    var certificate: Certificate
    var chain: [Certificate]
    var fingerprint: String
    var summary: CertificateSummary
    var isConnected = true

    /// The certificate as the renewal's rules see it.
    var renewalCard: RenewalCard { RenewalCard(certificate: certificate, chain: chain, fingerprint: fingerprint) }

    /// Connects to the card in `slot`, recognises it by the first profile whose application it has, and reads
    /// its certificates.
    static func read(from slot: any CardSlot, profiles: [ICCardProfile], as role: RenewalCardRole)
        async throws(LifecycleError) -> SlotCard
    {
        let connection: any CardConnection
        do { connection = try await slot.connect() } catch { throw LifecycleError.card(error, role) }
        var refusal = CardCredentialsError.notThisCard(
            profile: "an IC card this portal reads", reason: "no card profile is configured")
        for profile in profiles {
            do {
                let card = try await ICCard.connect(transport: connection, profile: profile)
                let certificate = try await card.certificate()
                let chain = try await card.caCertificate().map { [$0] } ?? []
                let fingerprint = try CertificateBinding.fingerprint(of: certificate)
                return SlotCard(
                    connection: connection, card: card, certificate: certificate, chain: chain,
                    fingerprint: fingerprint, summary: CertificateSummary(certificate))
            } catch CardCredentialsError.notThisCard(let name, let reason) {
                refusal = .notThisCard(profile: name, reason: reason)
                continue
            } catch {
                await connection.disconnect()
                throw LifecycleError.card(error, role)
            }
        }
        await connection.disconnect()
        throw .cardUnreadable(role, reason: refusal)
    }

    /// The two checks before a card in a person's hands is trusted: its PIN (the form and the tries left first,
    /// the last try only when allowed), then the proof that it holds its certificate's key.
    func verifyPINAndProveKey(_ pin: SecretPIN, allowLastTry: Bool, as role: RenewalCardRole)
        async throws(LifecycleError)
    {
        do {
            try await card.verifyPIN(pin, allowLastTry: allowLastTry)
        } catch {
            throw LifecycleError.card(error, role)
        }
        try await proveKey(as: role)
    }

    /// Proves the card holds the key of its certificate: it signs 32 random bytes and the signature is checked
    /// with the certificate (the PIN was verified before).
    func proveKey(as role: RenewalCardRole) async throws(LifecycleError) {
        do {
            let key = try CardKey(
                certificate: certificate, chain: chain, operation: ICCardSigningOperation(card: card, pin: nil))
            var generator = SystemRandomNumberGenerator()
            let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try await key.sign(Array("ICカード更新 possession check\n".utf8) + nonce, algorithm: .rsaPKCS1SHA256)
        } catch {
            throw LifecycleError.card(error, role)
        }
    }
}

extension LifecycleError {
    /// The lifecycle error for an error of a card, its link or its slot.
    static func card(_ error: any Error, _ role: RenewalCardRole) -> LifecycleError {
        if let error = error as? LifecycleError { return error }
        if error is CancellationError { return .cancelled }
        if let error = error as? CardCredentialsError {
            switch error {
            case .cardRemoved: return .cardRemoved(role)
            case .pinFormat(let problem): return .pinFormat(role, problem)
            case .wrongPIN(let triesLeft): return .wrongPIN(role, triesLeft: triesLeft)
            case .pinBlocked: return .pinBlocked(role)
            case .lastTryRefused: return .lastTryRefused(role)
            case .cardSignatureInvalid: return .cardKeyMismatch(role)
            default: return .cardUnreadable(role, reason: error)
            }
        }
        if let failure = error.cardTransportFailure {
            return failure == .cardRemoved
                ? .cardRemoved(role) : .cardUnreadable(role, reason: .cardUnavailable(failure))
        }
        if let error = error as? RegistrationError { return .registration(error) }
        return .cardUnreadable(role, reason: .malformedCardAnswer(String(describing: error)))
    }

    /// Whether the error means the card's connection cannot be used any more (pulled, reset, link gone).
    var losesConnection: Bool {
        switch code {
        case .cardRemoved, .cancelled: true
        case .cardUnreadable:
            switch cardError {
            case .cardRemoved, .cardReset, .cardUnavailable, .malformedCardAnswer: true
            default: false
            }
        default: false
        }
    }
}
