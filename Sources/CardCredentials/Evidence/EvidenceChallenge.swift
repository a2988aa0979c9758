public import Foundation
import SwiftASN1
public import X509

/// The flow and the step a card signature is made for (`login`/`login`, `ic-card-renewal`/`new-card`): part of
/// what is signed, so that evidence made for one step is refused at every other.
///
/// Both names are 1 to 40 characters of lower-case ASCII letters, digits and `-`, beginning with a letter.
public struct EvidencePurpose: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The flow (`login`, `ic-card-renewal`, `certificate-update`, …).
    public let flow: String
    /// The step within the flow (`current-card`, `new-card`, …).
    public let step: String

    /// A purpose.
    ///
    /// - Throws: ``EvidenceError/Code-swift.struct/malformedEvidence`` for a name outside the alphabet.
    public init(flow: String, step: String) throws(EvidenceError) {
        for (label, name) in [("flow", flow), ("step", step)] where !Self.isValidName(name) {
            throw EvidenceError(
                .malformedEvidence,
                "the \(label) name \(PortalOrigin.quoted(name)) is not 1 to 40 lower-case letters, digits and "
                    + "hyphens beginning with a letter")
        }
        self.flow = flow
        self.step = step
    }

    private init(checkedFlow flow: String, step: String) {
        self.flow = flow
        self.step = step
    }

    /// Certificate login (ログイン).
    public static let login = EvidencePurpose(checkedFlow: "login", step: "login")

    /// `flow/step`.
    public var description: String { "\(flow)/\(step)" }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.utf8.count <= 40 else {
            return false
        }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    public init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case flow, step }
        let container = try decoder.container(keyedBy: Keys.self)
        do {
            try self.init(
                flow: try container.decode(String.self, forKey: .flow),
                step: try container.decode(String.self, forKey: .step))
        } catch let error as EvidenceError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }
}

/// A challenge a portal issues for one card step: an identifier, 32 random bytes, the step it is for and when it
/// expires. The portal keeps it until evidence for it arrives, then takes it out, so each is answered once.
///
/// The card's key signs ``signedBytes(origin:certificate:)`` — never bytes chosen by a web page: the program that
/// holds the card (the card agent, or a front end in one process with the rules) adds the origin it knows
/// itself. A portal sends the challenge to the page as JSON:
///
/// ```json
/// {"id": "9f…", "nonce": "q83v…", "flow": "login", "step": "login", "expiresAt": "2026-12-05T07:00:00Z"}
/// ```
public struct EvidenceChallenge: Sendable, Hashable, Identifiable {
    /// The identifier: 16 to 64 lower-case hexadecimal digits.
    public let id: String
    /// The random bytes (at least 16; a portal issues 32).
    public let nonce: [UInt8]
    /// The flow and the step the evidence is for.
    public let purpose: EvidencePurpose
    /// When it stops being accepted (whole seconds).
    public let expiresAt: Date

    /// A challenge from its parts.
    ///
    /// - Throws: ``EvidenceError/Code-swift.struct/malformedEvidence`` when the identifier or the nonce is not
    ///   of the form above. `expiresAt` is cut to whole seconds, as it is signed.
    public init(id: String, nonce: [UInt8], purpose: EvidencePurpose, expiresAt: Date) throws(EvidenceError) {
        guard (16...64).contains(id.utf8.count),
            id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else {
            throw EvidenceError(.malformedEvidence, "a challenge identifier is 16 to 64 lower-case hexadecimal digits")
        }
        guard (16...64).contains(nonce.count) else {
            throw EvidenceError(.malformedEvidence, "a challenge's nonce is 16 to 64 bytes, not \(nonce.count)")
        }
        self.id = id
        self.nonce = nonce
        self.purpose = purpose
        self.expiresAt = Date(timeIntervalSince1970: (expiresAt.timeIntervalSince1970).rounded(.down))
    }

    /// A new challenge: a random identifier (32 hexadecimal digits) and 32 random bytes.
    public static func random(for purpose: EvidencePurpose, expiresAt: Date) -> EvidenceChallenge {
        let nonce = RandomBytes.make(32)
        let id = LowerHex.string(RandomBytes.make(16))
        // The parts are of the form the initialiser checks.
        return try! EvidenceChallenge(id: id, nonce: nonce, purpose: purpose, expiresAt: expiresAt)
    }

    /// The first line of ``signedBytes(origin:certificate:)``: it names the format and its version.
    public static let formatLine = "ProcurementIdentity card evidence 1"

    /// What the card's key signs: UTF-8 text of eight lines, each ended by a line feed —
    ///
    /// ```text
    /// ProcurementIdentity card evidence 1
    /// origin: https://portal.example.jp
    /// flow: ic-card-renewal
    /// step: new-card
    /// challenge: 9f0c…
    /// nonce: q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8w
    /// expires: 2026-12-05T07:00:00Z
    /// certificate: 5d41…  (SHA-256 of the signing certificate, hexadecimal)
    /// ```
    ///
    /// Every field is bound: the portal's origin (a page of another site gets a signature no other portal
    /// accepts), the flow and the step (evidence for one step is refused at another), the single-use challenge
    /// and its expiry, and the certificate (a key certified twice cannot lend its signature to the other
    /// certificate). No field can hold a line feed, so the text reads back one way only. A document signature
    /// of this library signs DER (CMS signed attributes, which begin with the byte 0x31), never text beginning
    /// with ``formatLine``; so neither can pass for the other.
    public func signedBytes(origin: PortalOrigin, certificate: Certificate) throws(EvidenceError) -> [UInt8] {
        let fingerprint: String
        do { fingerprint = LowerHex.string(DigestAlgorithm.sha256.hash(try certificate.derBytes())) } catch {
            throw EvidenceError(.malformedEvidence, "the certificate could not be encoded: \(error)")
        }
        return signedBytes(origin: origin, certificateFingerprint: fingerprint)
    }

    func signedBytes(origin: PortalOrigin, certificateFingerprint: String) -> [UInt8] {
        let text = """
            \(Self.formatLine)
            origin: \(origin)
            flow: \(purpose.flow)
            step: \(purpose.step)
            challenge: \(id)
            nonce: \(Base64URL.encode(nonce))
            expires: \(Self.timestamp(expiresAt))
            certificate: \(certificateFingerprint)

            """
        return Array(text.utf8)
    }

    /// Signs the challenge for `origin` with a card or file key (after its PIN was verified) and returns the
    /// evidence to send to the portal.
    ///
    /// - Parameters:
    ///   - origin: The portal's origin as the program that holds the card knows it (the agent: the `Origin` it
    ///     checked; a program in one process with the rules: ``PortalOrigin/inProcess``). Never taken from a page.
    ///   - signer: The key (`CardKey`, `FileCredential`).
    ///   - algorithm: The algorithm; the signer's preferred one by default.
    public func sign(for origin: PortalOrigin, with signer: any Signer, algorithm: SigningAlgorithm? = nil)
        async throws -> CardEvidence
    {
        let algorithm = algorithm ?? signer.defaultAlgorithm
        let bytes = try signedBytes(origin: origin, certificate: signer.certificate)
        let signature = try await signer.sign(bytes, algorithm: algorithm)
        return CardEvidence(
            origin: origin, challengeID: id, certificate: signer.certificate, chain: signer.chain,
            algorithm: algorithm, signature: signature)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(utcFormat)
    }

    private static let utcFormat: Date.ISO8601FormatStyle = {
        var format = Date.ISO8601FormatStyle()
        format.timeZone = TimeZone(identifier: "UTC")!
        return format
    }()
}

extension EvidenceChallenge: Codable {
    private enum Keys: String, CodingKey { case id, nonce, flow, step, expiresAt }

    /// Reads the JSON form of the type's documentation (the nonce in base64url without padding, the expiry in
    /// ISO 8601), whatever the decoder's own strategies.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        func corrupt(_ key: Keys, _ text: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: container, debugDescription: text)
        }
        guard let nonce = Base64URL.decode(try container.decode(String.self, forKey: .nonce)) else {
            throw corrupt(.nonce, "the nonce is not base64url")
        }
        guard let expiresAt = try? Date(container.decode(String.self, forKey: .expiresAt), strategy: .iso8601) else {
            throw corrupt(.expiresAt, "the expiry is not an ISO 8601 time")
        }
        do {
            let purpose = try EvidencePurpose(
                flow: try container.decode(String.self, forKey: .flow),
                step: try container.decode(String.self, forKey: .step))
            try self.init(
                id: try container.decode(String.self, forKey: .id), nonce: nonce, purpose: purpose,
                expiresAt: expiresAt)
        } catch let error as EvidenceError {
            throw corrupt(.id, error.description)
        }
    }

    /// Writes the JSON form of the type's documentation.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        try container.encode(Base64URL.encode(nonce), forKey: .nonce)
        try container.encode(purpose.flow, forKey: .flow)
        try container.encode(purpose.step, forKey: .step)
        try container.encode(Self.timestamp(expiresAt), forKey: .expiresAt)
    }
}

extension Certificate {
    /// The certificate's DER encoding (for the package's modules).
    package func derBytes() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return serializer.serializedBytes
    }
}
