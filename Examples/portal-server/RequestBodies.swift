import CardCredentials
import Foundation
import Hummingbird
import Registration
import SwiftASN1
import Synchronization
import X509

// The JSON bodies the API takes. Each is decoded strictly: a key the type does not name is refused (400
// `unknownField`), so that a misspelt field is never silently ignored. Optional fields may be left out or null.

/// A JSON key of any name, to list the keys a client sent.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// A body decoded strictly: its keys are exactly ``Keys``; `nested` names the keys whose values are strict too.
protocol StrictBody: Decodable {
    associatedtype Keys: CodingKey & CaseIterable
    static var nested: [String: any StrictBody.Type] { get }
}

extension StrictBody {
    static var nested: [String: any StrictBody.Type] { [:] }

    /// Refuses a key the type does not name, here and in nested strict values.
    static func refuseUnknownKeys(_ decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys {
            // A key the type names: `Keys(stringValue:)` is the match the decoding itself makes.
            guard Keys(stringValue: key.stringValue) != nil else {
                throw Problem(
                    .badRequest, rule: "unknownField", title: "Unknown field",
                    detail: "The body has a field this endpoint does not take: \(path(decoder.codingPath + [key])).",
                    field: path(decoder.codingPath + [key]))
            }
            if let inner = nested[key.stringValue], try !container.decodeNil(forKey: key) {
                try inner.refuseUnknownKeys(try container.superDecoder(forKey: key))
            }
        }
    }
}

/// The path of a coding key, as `powerOfAttorney.authority[0]`.
func path(_ keys: [any CodingKey]) -> String {
    var text = ""
    for key in keys {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return text
}

/// A strict body, read in one pass over the JSON: its keys checked, then its values decoded.
private struct Strict<Body: StrictBody>: Decodable {
    let body: Body
    init(from decoder: any Decoder) throws {
        try Body.refuseUnknownKeys(decoder)
        body = try Body(from: decoder)
    }
}

extension Request {
    /// The body as `Body`: `application/json`, at most `limit` bytes, keys exactly those of `Body`, values of the
    /// right types. Every failure is a 4xx problem that names the field.
    func decodeStrictly<Body: StrictBody>(_ type: Body.Type, limit: Int) async throws -> Body {
        let contentType = headers[.contentType] ?? ""
        let mediaType = contentType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "application/json" else {
            throw Problem(
                .unsupportedMediaType, rule: "contentType", title: "Unsupported Media Type",
                detail: "Send the body as application/json.", headers: [.accept: "application/json"])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch {
            throw Problem.bodyTooLarge
        }
        let data = Data(buffer.readableBytesView)
        let decoder = JSONDecoder()
        do {
            return try decoder.decode(Strict<Body>.self, from: data).body
        } catch let problem as Problem {
            throw problem
        } catch let error as DecodingError {
            throw Problem(error)
        }
    }
}

extension Problem {
    /// A body that is not JSON or not of the expected form.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(
                .badRequest, rule: "missingField", title: "Missing field",
                detail: "The body lacks the field \(field).", field: field)
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            self.init(
                .badRequest, rule: "missingField", title: "Missing field",
                detail: "The field \(field) may not be null.", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            self.init(
                .badRequest, rule: "wrongType", title: "Wrong type",
                detail: field.isEmpty
                    ? "The body is not a JSON object." : "The field \(field) is not of type \(Self.jsonType(type)).",
                field: field.isEmpty ? nil : field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            self.init(
                .badRequest, rule: "malformedJSON", title: "Malformed JSON",
                detail: field.isEmpty ? "The body is not JSON." : "The field \(field) cannot be read.",
                field: field.isEmpty ? nil : field)
        @unknown default:
            self.init(.badRequest, rule: "malformedJSON", title: "Malformed JSON", detail: "The body cannot be read.")
        }
    }

    private static func jsonType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Double.Type: "number"
        case is Bool.Type: "boolean"
        case is [Any].Type: "array"
        default: "object"
        }
    }

    /// A field whose value was refused by the server's own reading of it (base64, a certificate, a date).
    static func invalid(_ field: String, _ detail: String) -> Problem {
        Problem(.unprocessableContent, rule: "invalidField", title: "入力項目が正しくありません", detail: detail, field: field)
    }
}

// MARK: Bodies

/// `POST /api/v1/login`: card evidence for a login challenge, in its JSON form (Documentation/CardEvidence.md).
struct LoginAnswerBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, origin, challengeID, certificate, chain, signature, algorithm
    }
    typealias Keys = CodingKeys
    /// `procurement-identity-evidence:1`.
    var format: String
    /// The origin the card signed for, as the signing program says.
    var origin: String
    var challengeID: String
    /// The certificate, DER in base64.
    var certificate: String
    /// CA certificates, DER in base64.
    var chain: [String]?
    /// The signature over the evidence text, base64.
    var signature: String
    /// RS256, RS384, RS512, ES256, ES384 or ES512.
    var algorithm: String

    static let algorithms: [String: SigningAlgorithm] = [
        "RS256": .rsaPKCS1SHA256, "RS384": .rsaPKCS1SHA384, "RS512": .rsaPKCS1SHA512,
        "ES256": .ecdsaSHA256, "ES384": .ecdsaSHA384, "ES512": SigningAlgorithm(keyType: .ecdsa, digest: .sha512),
    ]

    func evidence() throws -> CardEvidence {
        guard format == CardEvidence.format else {
            throw Problem.invalid("format", "format is \(CardEvidence.format).")
        }
        guard let algorithm = Self.algorithms[algorithm] else {
            throw Problem.invalid("algorithm", "algorithm is one of RS256, RS384, RS512, ES256, ES384, ES512.")
        }
        let origin: PortalOrigin
        do { origin = try parsedOrigin(self.origin) } catch { throw Problem.invalid("origin", error.description + ".") }
        guard (1...64).contains(challengeID.utf8.count) else {
            throw Problem.invalid("challengeID", "challengeID is the id of a challenge.")
        }
        let chain = chain ?? []
        guard chain.count <= CardEvidence.maximumChainLength else {
            throw Problem.invalid("chain", "chain has at most \(CardEvidence.maximumChainLength) certificates.")
        }
        return CardEvidence(
            origin: origin, challengeID: challengeID,
            certificate: try decodeCertificate(certificate, field: "certificate"),
            chain: try chain.enumerated().map {
                try decodeChainCertificate($0.element, field: "chain[\($0.offset)]")
            },
            algorithm: algorithm, signature: try decodeBase64(signature, field: "signature"))
    }
}

/// The last origin a body named, parsed: nearly every body names the server's own origin, and parsing it
/// (URLComponents) is about 1 % of a login's processor time.
private let lastOrigin = Mutex<(text: String, origin: PortalOrigin)?>(nil)

/// `text` as a ``PortalOrigin``, parsed once for as long as the bodies name the same text.
private func parsedOrigin(_ text: String) throws(EvidenceError) -> PortalOrigin {
    if let last = lastOrigin.withLock({ $0 }), last.text == text { return last.origin }
    let origin = try PortalOrigin(text)
    lastOrigin.withLock { $0 = (text, origin) }
    return origin
}

/// `PATCH /api/v1/registration/business`: 事業者基本情報; a field left out keeps its value.
struct BusinessPatchBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, postalCode, address, representativeTitle, representativeName, corporateNumber, phone
    }
    typealias Keys = CodingKeys
    var name: String?
    var postalCode: String?
    var address: String?
    var representativeTitle: String?
    var representativeName: String?
    /// An empty string removes it.
    var corporateNumber: String?
    var phone: String?

    func information(updating current: BusinessInformation) throws(RegistrationError) -> BusinessInformation {
        try BusinessInformation(
            name: name ?? current.name, postalCode: postalCode ?? current.postalCode.text,
            address: address ?? current.address,
            representativeTitle: representativeTitle ?? current.representativeTitle,
            representativeName: representativeName ?? current.representativeName,
            corporateNumber: corporateNumber ?? current.corporateNumber?.digits, phone: phone ?? current.phone.text)
    }
}

/// `PATCH /api/v1/registration/users/{userID}`: 利用者基本情報; a field left out keeps its value.
struct UserPatchBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case title, name, postalCode, address, phone, fax, mail }
    typealias Keys = CodingKeys
    var title: String?
    var name: String?
    var postalCode: String?
    var address: String?
    var phone: String?
    /// An empty string removes it.
    var fax: String?
    var mail: String?

    func information(updating current: UserInformation) throws(RegistrationError) -> UserInformation {
        try UserInformation(
            title: title ?? current.title, name: name ?? current.name,
            postalCode: postalCode ?? current.postalCode.text, address: address ?? current.address,
            phone: phone ?? current.phone.text, fax: fax ?? current.fax?.text, mail: mail ?? current.mail.text)
    }
}

/// A power of attorney (電子委任状) as its provider issued it.
struct PowerOfAttorneyBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case principal, agent, authority, validFrom, validUntil, provider, reference
    }
    typealias Keys = CodingKeys
    var principal: String
    var agent: String
    var authority: [String]
    /// ISO 8601.
    var validFrom: String
    /// ISO 8601.
    var validUntil: String
    var provider: String
    var reference: String

    func powerOfAttorney() throws -> PowerOfAttorney {
        let dates = ISO8601DateFormatter()
        guard let from = dates.date(from: validFrom) else {
            throw Problem.invalid(
                "powerOfAttorney.validFrom", "validFrom is an ISO 8601 time, as 2026-04-01T00:00:00+09:00.")
        }
        guard let until = dates.date(from: validUntil) else {
            throw Problem.invalid(
                "powerOfAttorney.validUntil", "validUntil is an ISO 8601 time, as 2027-03-31T23:59:59+09:00.")
        }
        return try PowerOfAttorney(
            agentID: UserID(rawValue: "new"), principal: principal, agent: agent, authority: authority,
            validFrom: from, validUntil: until, provider: provider, reference: reference)
    }
}

/// `POST /api/v1/registration/agents`: 代理人登録, the agent's information and certificate.
struct NewAgentBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case title, name, postalCode, address, phone, fax, mail, certificate, kind, powerOfAttorney
    }
    typealias Keys = CodingKeys
    static var nested: [String: any StrictBody.Type] { ["powerOfAttorney": PowerOfAttorneyBody.self] }
    var title: String
    var name: String
    var postalCode: String
    var address: String
    var phone: String
    var fax: String?
    var mail: String
    /// DER in base64.
    var certificate: String
    /// icCard, fileCertificate or myNumberCard.
    var kind: String
    var powerOfAttorney: PowerOfAttorneyBody?

    func change() throws -> RegistrationChange {
        let information = try UserInformation(
            title: title, name: name, postalCode: postalCode, address: address, phone: phone, fax: fax, mail: mail)
        return .addAgent(
            information, try decodeCertificate(certificate, field: "certificate"), try credentialKind(kind),
            powerOfAttorney: try powerOfAttorney?.powerOfAttorney())
    }
}

/// `POST /api/v1/registration/qualifications`: 資格情報の追加.
struct QualificationBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case kind, grade }
    typealias Keys = CodingKeys
    /// manufacturing, sales, services or purchase.
    var kind: String
    /// A, B, C or D.
    var grade: String

    func qualification() throws -> Qualification {
        try parseQualification(kind: kind, grade: grade)
    }
}

/// `POST /api/v1/registration/certificates`: 電子証明書情報の追加.
struct CertificateBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case userID, certificate, kind }
    typealias Keys = CodingKeys
    /// The user who gets it; the session's user when left out.
    var userID: String?
    /// DER in base64.
    var certificate: String
    /// icCard, fileCertificate or myNumberCard.
    var kind: String
}

// MARK: Values

func decodeBase64(_ text: String, field: String) throws -> [UInt8] {
    guard let data = Data(base64Encoded: text), !data.isEmpty else {
        throw Problem.invalid(field, "\(field) is not base64.")
    }
    return Array(data)
}

func decodeCertificate(_ text: String, field: String) throws -> Certificate {
    let der = try decodeBase64(text, field: field)
    do {
        return try Certificate(derEncoded: der)
    } catch {
        throw Problem.invalid(field, "\(field) is not an X.509 certificate (DER in base64).")
    }
}

/// The CA certificates clients sent beside their own, parsed, by their base64 text: the same few come with every
/// login of their users, and parsing one costs about as much as the rest of the body. At most 32; when full, the
/// list starts again. A certificate that is not a CA's is parsed each time, as the client's own is.
private let chainCertificates = Mutex<[String: Certificate]>([:])

/// A certificate of the evidence's chain, parsed once while it stays in ``chainCertificates``.
func decodeChainCertificate(_ text: String, field: String) throws -> Certificate {
    if let known = chainCertificates.withLock({ $0[text] }) { return known }
    let certificate = try decodeCertificate(text, field: field)
    if case .isCertificateAuthority = try? certificate.extensions.basicConstraints {
        chainCertificates.withLock { known in
            if known.count >= 32 { known.removeAll(keepingCapacity: true) }
            known[text] = certificate
        }
    }
    return certificate
}

func credentialKind(_ text: String) throws -> CredentialKind {
    guard let kind = CredentialKind(rawValue: text) else {
        throw Problem.invalid("kind", "kind is icCard, fileCertificate or myNumberCard.")
    }
    return kind
}

func parseQualification(kind: String, grade: String) throws -> Qualification {
    guard let kind = Qualification.Kind(rawValue: kind) else {
        throw Problem.invalid("kind", "kind is manufacturing, sales, services or purchase.")
    }
    guard let grade = Qualification.Grade(rawValue: grade) else {
        throw Problem.invalid("grade", "grade is A, B, C or D.")
    }
    return Qualification(kind: kind, grade: grade)
}
