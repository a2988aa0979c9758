import CardCredentials
import Foundation
import ISO7816
import JPKI
import Registration
import X509

/// A certificate an update flow read and whose key it proved: from an IC card, a PKCS#12 file or a My Number card.
struct UpdateCredential: Sendable {
    var kind: CredentialKind
    var certificate: Certificate
    var chain: [Certificate]
    var fingerprint: String
    var summary: CertificateSummary

    init(kind: CredentialKind, certificate: Certificate, chain: [Certificate]) throws(LifecycleError) {
        self.kind = kind
        self.certificate = certificate
        self.chain = chain
        do { fingerprint = try CertificateBinding.fingerprint(of: certificate) } catch {
            throw .registration(error)
        }
        summary = CertificateSummary(certificate)
    }

    /// 32 random bytes behind a label: what a key signs to prove it is there.
    static func challenge(_ label: String) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return Array("\(label) possession check\n".utf8)
            + (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Opens a PKCS#12 file with its password and has its key sign a challenge.
    static func file(_ bytes: [UInt8], password: SecretPIN, as role: RenewalCardRole) async throws(LifecycleError)
        -> UpdateCredential
    {
        let credential: FileCredential
        do {
            credential = try FileCredential(pkcs12: bytes, password: password)
        } catch .wrongPassword {
            throw .wrongFilePassword(role)
        } catch {
            throw .fileUnreadable(role, reason: error)
        }
        do {
            let challenge = challenge("電子証明書更新")
            let signature = try await credential.sign(challenge, algorithm: credential.defaultAlgorithm)
            guard !signature.isEmpty else { throw CardCredentialsError.keyDoesNotMatchCertificate }
        } catch {
            throw .fileUnreadable(role, reason: (error as? CardCredentialsError) ?? .keyDoesNotMatchCertificate)
        }
        return try UpdateCredential(
            kind: .fileCertificate, certificate: credential.certificate, chain: credential.chain)
    }

    /// Reads a My Number card's signing certificate with the signing PIN (the verifier refuses a blocked PIN, and
    /// the last try unless allowed, before any try) and has its signing key sign a challenge; then lets the card
    /// go (`connection` is disconnected however the read ends).
    static func myNumberSigning(from connection: any CardConnection, pin: SecretPIN, allowLastTry: Bool)
        async throws(LifecycleError) -> UpdateCredential
    {
        try await myNumber(connection, label: "電子証明書更新") { card in
            try await card.signingKey(pin: pin, allowLastTry: allowLastTry, includeCACertificate: true)
        }
    }

    /// Reads a My Number card's authentication certificate with the user-authentication PIN (4 digits) and has
    /// its authentication key sign a challenge; then lets the card go.
    static func myNumberAuthentication(from connection: any CardConnection, pin: SecretPIN, allowLastTry: Bool)
        async throws(LifecycleError) -> UpdateCredential
    {
        try await myNumber(connection, label: "利用者情報削除") { card in
            try await card.authenticationKey(pin: pin, allowLastTry: allowLastTry, includeCACertificate: true)
        }
    }

    /// The key `makeKey` gets from the card (its PIN verified) signs a challenge labeled `label`; the connection
    /// is disconnected afterwards, whatever happened.
    private static func myNumber(
        _ connection: any CardConnection, label: String,
        makeKey: @Sendable (MyNumberCard) async throws -> CardKey
    ) async throws(LifecycleError) -> UpdateCredential {
        do {
            let key = try await makeKey(try await MyNumberCard.connect(transport: connection))
            _ = try await key.sign(challenge(label), algorithm: .rsaPKCS1SHA256)
            let credential = try UpdateCredential(kind: .myNumberCard, certificate: key.certificate, chain: key.chain)
            await connection.disconnect()
            return credential
        } catch {
            await connection.disconnect()
            throw LifecycleError.myNumber(error)
        }
    }
}

extension LifecycleError {
    /// The lifecycle error for an error of a My Number card, its link or its slot.
    static func myNumber(_ error: any Error) -> LifecycleError {
        if let error = error as? LifecycleError { return error }
        if error is CancellationError { return .cancelled }
        if let error = error as? JPKIError { return .myNumberCard(error) }
        if case .cardSignatureInvalid = error as? CardCredentialsError { return .cardKeyMismatch(.current) }
        if let failure = error.cardTransportFailure {
            return .myNumberCard(failure == .cardRemoved ? .cardRemoved : .cardUnavailable(failure))
        }
        return .myNumberCard(.malformedAnswer(String(describing: error)))
    }

    /// The lifecycle error for an error of the registration desk.
    static func desk(_ error: any Error) -> LifecycleError {
        if let error = error as? LifecycleError { return error }
        guard let error = error as? RegistrationError else {
            return .registration(.storeFailure(String(describing: error)))
        }
        switch error {
        case .staleChange: return .registrationChanged
        case .preparationExpired: return .confirmationExpired
        case .companyNameMismatch(let registered, let card):
            return .companyNameMismatch(registered: registered, card: card)
        case .certificateAlreadyBound: return .newCardAlreadyRegistered
        default: return .registration(error)
        }
    }
}

extension LifecycleEnvironment {
    /// Validates a certificate with the environment's validator (its chain as intermediates) at `date`.
    func validation(of credential: UpdateCredential, at date: Date) async -> ValidationResult {
        var validator = self.validator
        validator.intermediates += credential.chain
        return await validator.validate(credential.certificate, for: .any, at: date)
    }
}
