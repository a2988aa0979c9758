import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import Registration

// The certificate update without login (電子証明書更新) across the network: the library's RemoteCertificateUpdate
// does the work (the same rules as `portal update-certificate`); these routes carry its state, challenges and
// evidence as JSON. There is no session (the person's certificate no longer logs in: that is what the flow is
// for); the flow's identifier, 128 random bits, is what continues it. Starts and evidence are limited per client
// address like logins.

/// `POST /api/v1/flows/certificate-update`: 更新する電子証明書の種別.
struct CertificateUpdateStartBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case type }
    typealias Keys = CodingKeys
    /// privateCertificate or myNumberCard.
    var type: String

    func updateType() throws -> CertificateUpdateType {
        guard let type = CertificateUpdateType(rawValue: type) else {
            throw Problem.invalid("type", "type is privateCertificate or myNumberCard.")
        }
        return type
    }
}

/// `POST …/current-certificate` and `…/new-certificate`: the evidence, and what the certificate is on.
struct CertificateUpdateEvidenceBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case evidence, kind, consent }
    typealias Keys = CodingKeys
    static var nested: [String: any StrictBody.Type] { ["evidence": LoginAnswerBody.self] }
    var evidence: LoginAnswerBody
    /// icCard (the default) or fileCertificate, for a private certificate.
    var kind: String?
    /// The person's consent to ask JPKI (My Number card, current certificate only).
    var consent: Bool?

    func credentialKind() throws -> CredentialKind {
        switch kind ?? CredentialKind.icCard.rawValue {
        case CredentialKind.icCard.rawValue: .icCard
        case CredentialKind.fileCertificate.rawValue: .fileCertificate
        default: throw Problem.invalid("kind", "kind is icCard or fileCertificate.")
        }
    }
}

extension PortalRoutes {
    struct CertificateUpdateFlowDocument: Encodable {
        var flowID: String
        /// privateCertificate or myNumberCard.
        var type: String
        /// current-certificate, new-certificate, confirm or completed.
        var step: String
        var expiresAt: Date
        var businessID: String?
        var changeID: String?

        init(_ state: CertificateUpdateState) {
            flowID = state.flowID
            type = state.type.rawValue
            step = state.step.rawValue
            expiresAt = state.expiresAt
            businessID = state.businessID?.rawValue
            changeID = state.changeID?.rawValue
        }
    }

    struct CertificateUpdateConfirmationDocument: Encodable {
        struct Details: Encodable {
            var heading: String
            var kind: String
            var fingerprint: String
            var rows: [ScreenRow]
        }
        /// 電子証明書の更新確認.
        var title: String
        var current: Details
        var new: Details
        var business: [ScreenRow]
        var notes: [String]

        init(_ confirmation: CertificateUpdateConfirmation) {
            title = CertificateUpdateConfirmation.title
            func details(_ value: CertificateUpdateDetails) -> Details {
                Details(
                    heading: value.heading, kind: value.kind.rawValue, fingerprint: value.fingerprint, rows: value.rows)
            }
            current = details(confirmation.current)
            new = details(confirmation.new)
            business = confirmation.business
            notes = confirmation.notes
        }
    }

    func addCertificateUpdateRoutes(to api: RouterGroup<PortalRequestContext>) {
        let update = dependencies.certificateUpdate
        let limit = settings.bodyLimit
        let flows = api.group("flows/certificate-update")
        flows.post { request, context in
            try limitAddress(request, context)
            let type = try await request.decodeStrictly(CertificateUpdateStartBody.self, limit: limit).updateType()
            let state = try await lifecycle { try await update.start(type) }
            return try Self.json(CertificateUpdateFlowDocument(state), status: .created)
        }
        flows.get(":flowID") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(CertificateUpdateFlowDocument(try await lifecycle { try await update.state(of: id) }))
        }
        flows.post(":flowID/challenge") { request, context in
            try limitChallenges(request, context)
            let id = try context.parameters.require("flowID")
            return try Self.json(try await lifecycle { try await update.challenge(for: id) }, status: .created)
        }
        flows.post(":flowID/current-certificate") { request, context in
            try limitAddress(request, context)
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(CertificateUpdateEvidenceBody.self, limit: limit)
            let evidence = try body.evidence.evidence()
            let kind = try body.credentialKind()
            let state = try await lifecycle {
                try await update.presentCurrentCertificate(
                    evidence, kind: kind, consent: body.consent ?? false, flow: id)
            }
            return try Self.json(CertificateUpdateFlowDocument(state))
        }
        flows.post(":flowID/new-certificate") { request, context in
            try limitAddress(request, context)
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(CertificateUpdateEvidenceBody.self, limit: limit)
            guard body.consent == nil else {
                throw Problem.invalid("consent", "consent is given with the registered certificate only.")
            }
            let evidence = try body.evidence.evidence()
            let kind = try body.credentialKind()
            let state = try await lifecycle { try await update.presentNewCertificate(evidence, kind: kind, flow: id) }
            return try Self.json(CertificateUpdateFlowDocument(state))
        }
        flows.get(":flowID/confirmation") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(
                CertificateUpdateConfirmationDocument(try await lifecycle { try await update.confirmation(flow: id) }))
        }
        flows.post(":flowID/update") { _, context in
            let id = try context.parameters.require("flowID")
            let completion = try await lifecycle { try await update.update(flow: id) }
            metrics.change("replaceCertificate")
            audit.info(
                "change",
                metadata: [
                    "event": "change", "kind": "replaceCertificate", "flow": "certificate-update", "flowID": "\(id)",
                    "userID": "\(completion.confirmation.userID)",
                    "businessID": "\(completion.confirmation.businessID)",
                    "changeID": "\(completion.changeID)", "version": "\(completion.registration.version)",
                ])
            return try Self.json(
                CompletionDocument(
                    message: CertificateUpdateCompletion.message, changeID: completion.changeID.rawValue,
                    version: completion.registration.version,
                    supersededBindingID: completion.supersededBindingID.rawValue,
                    newBindingID: completion.newBindingID.rawValue))
        }
        flows.post(":flowID/back") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(CertificateUpdateFlowDocument(try await lifecycle { try await update.back(flow: id) }))
        }
    }

    /// The challenge limit of the client's address: a flood of challenges would fill the store for their lifetime.
    func limitChallenges(_ request: Request, _ context: PortalRequestContext) throws {
        let client = clientAddress(request, context: context, trustedProxies: settings.trustedProxies)
        if let wait = challengeLimiter.take("address:" + client, at: dependencies.now()) {
            refused(rule: "rateLimited", client: client, metadata: ["limit": "challenges"])
            throw Problem.rateLimited(wait)
        }
    }

    /// The login limit of the client's address, for steps that anyone may try without a session.
    func limitAddress(_ request: Request, _ context: PortalRequestContext) throws {
        let client = clientAddress(request, context: context, trustedProxies: settings.trustedProxies)
        if let wait = limiter.take("address:" + client, at: dependencies.now()) {
            refused(rule: "rateLimited", client: client, metadata: ["limit": "address"])
            throw Problem.rateLimited(wait)
        }
    }
}
