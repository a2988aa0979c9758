import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import Logging
import Registration

// The revocation request (インターネット失効申込) across the network: the library's RemoteRevocationRequest does the
// work (the same rules as `portal revoke-request`); these routes carry its state, challenges, evidence and the
// card's signature as JSON. There is no session (the card to revoke may be lost for login, or not registered
// here); the flow's identifier, 128 random bits, is what continues it. Starts, evidence and signatures are limited
// per client address like logins.

/// `POST …/card`: the card's evidence for the flow's challenge.
struct RevocationCardBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case evidence }
    typealias Keys = CodingKeys
    static var nested: [String: any StrictBody.Type] { ["evidence": LoginAnswerBody.self] }
    var evidence: LoginAnswerBody
}

/// `POST …/form`: 失効申込情報入力.
struct RevocationFormBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case reason, requesterName, phone, mail, department, note }
    typealias Keys = CodingKeys
    /// 失効理由: loss, theft, damage, keyCompromise, detailsChanged, leftCompany, businessClosed or noLongerNeeded.
    var reason: String
    /// 申込者氏名.
    var requesterName: String
    /// 電話番号.
    var phone: String
    /// メールアドレス.
    var mail: String
    /// 部署名 (optional).
    var department: String?
    /// 備考 (optional).
    var note: String?

    func form() throws -> RevocationRequestForm {
        guard let reason = RevocationRequestReason(rawValue: reason) else {
            throw Problem.invalid(
                "reason",
                "reason is one of \(RevocationRequestReason.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return RevocationRequestForm(
            reason: reason, requesterName: requesterName, phone: phone, mail: mail, department: department ?? "",
            note: note ?? "")
    }
}

/// `POST …/signature`: the card's CMS signature over the request.
struct RevocationSignatureBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case signature }
    typealias Keys = CodingKeys
    /// CMS SignedData, DER in base64, detached (as the card agent's `POST /v1/sign` returns it) or attached.
    var signature: String
}

/// `POST …/submit`: 上記内容を確認しました, then 失効申込をする(確定).
struct RevocationSubmitBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case checked }
    typealias Keys = CodingKeys
    var checked: Bool
}

extension PortalRoutes {
    struct RevocationFlowDocument: Encodable {
        struct Card: Encodable {
            var fingerprint: String
            var rows: [ScreenRow]
        }
        struct Signing: Encodable {
            /// The request's identifier (申込ID).
            var requestID: String
            /// A file name for the signature dialog.
            var name: String
            /// The request's canonical JSON, base64: the bytes the card signs.
            var document: String
        }
        var flowID: String
        /// agreement, card, form, signature, confirm or completed.
        var step: String
        var procedureOpened: Bool
        var termsOpened: Bool
        var submitted: Bool
        var expiresAt: Date
        /// ⑩ the card's contents, once its evidence was accepted.
        var card: Card?
        /// What the card signs, at the signature step.
        var toSign: Signing?
        /// 受付番号, once completed.
        var receiptNumber: String?

        init(_ state: RevocationRequestState) {
            flowID = state.flowID
            step = state.step.rawValue
            procedureOpened = state.procedureOpened
            termsOpened = state.termsOpened
            submitted = state.submitted
            expiresAt = state.expiresAt
            card = state.cardContents.map { Card(fingerprint: $0.fingerprint, rows: $0.rows) }
            if state.step == .signature, let document = state.documentToSign, let requestID = state.requestID {
                toSign = Signing(
                    requestID: requestID, name: "失効申込 \(requestID).json",
                    document: Data(document).base64EncodedString())
            }
            receiptNumber = state.receipt?.receiptNumber
        }
    }

    struct RevocationDocumentBody: Encodable {
        var title: String
        var paragraphs: [String]
    }

    struct RevocationConfirmationDocument: Encodable {
        /// 失効申込内容確認.
        var title: String
        var rows: [ScreenRow]
        var notes: [String]
        /// 上記内容を確認しました.
        var checkLabel: String
        /// 失効申込をする(確定).
        var submitLabel: String

        init(_ confirmation: RevocationConfirmation) {
            title = RevocationConfirmation.title
            rows = confirmation.rows
            notes = RevocationConfirmation.notes
            checkLabel = RevocationConfirmation.checkLabel
            submitLabel = RevocationConfirmation.submitLabel
        }
    }

    struct RevocationRecordDocument: Encodable {
        /// 受付番号.
        var receiptNumber: String
        var requestID: String
        var acceptedAt: Date
        /// The printable record (失効申込内容印刷), one `label: value` line each.
        var text: String
        /// How the portal's registration took the revocation.
        var portal: String
        /// The signed request as sent (CMS SignedData with the request inside, DER in base64): keep it with the
        /// printed record.
        var request: String

        init(_ record: RevocationRecord) {
            receiptNumber = record.receipt.receiptNumber
            requestID = record.receipt.requestID
            acceptedAt = record.receipt.acceptedAt
            text = record.text
            portal = record.portal.description
            request = Data(record.cmsFile).base64EncodedString()
        }
    }

    func addRevocationRoutes(to api: RouterGroup<PortalRequestContext>) {
        let revocation = dependencies.revocation
        let limit = settings.bodyLimit
        let flows = api.group("flows/revocation-request")
        flows.post { request, context in
            try limitAddress(request, context)
            let state = try await lifecycle { try await revocation.start() }
            return try Self.json(RevocationFlowDocument(state), status: .created)
        }
        flows.get(":flowID") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(RevocationFlowDocument(try await lifecycle { try await revocation.state(of: id) }))
        }
        flows.post(":flowID/procedure") { _, context in
            let id = try context.parameters.require("flowID")
            let document = try await lifecycle { try await revocation.openProcedure(flow: id) }
            return try Self.json(RevocationDocumentBody(title: document.title, paragraphs: document.paragraphs))
        }
        flows.post(":flowID/terms") { _, context in
            let id = try context.parameters.require("flowID")
            let document = try await lifecycle { try await revocation.openTerms(flow: id) }
            return try Self.json(RevocationDocumentBody(title: document.title, paragraphs: document.paragraphs))
        }
        flows.post(":flowID/agree") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(RevocationFlowDocument(try await lifecycle { try await revocation.agree(flow: id) }))
        }
        flows.post(":flowID/challenge") { request, context in
            try limitChallenges(request, context)
            let id = try context.parameters.require("flowID")
            return try Self.json(try await lifecycle { try await revocation.challenge(for: id) }, status: .created)
        }
        flows.post(":flowID/card") { request, context in
            try limitAddress(request, context)
            let id = try context.parameters.require("flowID")
            let evidence = try await request.decodeStrictly(RevocationCardBody.self, limit: limit).evidence.evidence()
            let state = try await lifecycle { try await revocation.presentCard(evidence, flow: id) }
            return try Self.json(RevocationFlowDocument(state))
        }
        flows.post(":flowID/form") { request, context in
            let id = try context.parameters.require("flowID")
            let form = try await request.decodeStrictly(RevocationFormBody.self, limit: limit).form()
            return try Self.json(
                RevocationFlowDocument(try await lifecycle { try await revocation.fill(form, flow: id) }))
        }
        flows.post(":flowID/signature") { request, context in
            try limitAddress(request, context)
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(RevocationSignatureBody.self, limit: limit)
            let cms = try decodeBase64(body.signature, field: "signature")
            let state = try await lifecycle { try await revocation.presentSignature(cms, flow: id) }
            return try Self.json(RevocationFlowDocument(state))
        }
        flows.get(":flowID/confirmation") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(
                RevocationConfirmationDocument(try await lifecycle { try await revocation.confirmation(flow: id) }))
        }
        flows.post(":flowID/submit") { request, context in
            let id = try context.parameters.require("flowID")
            let checked = try await request.decodeStrictly(RevocationSubmitBody.self, limit: limit).checked
            let record = try await lifecycle { try await revocation.submit(checked: checked, flow: id) }
            var metadata: Logger.Metadata = [
                "event": "revocationRequest", "flowID": "\(id)", "requestID": "\(record.receipt.requestID)",
                "receiptNumber": "\(record.receipt.receiptNumber)",
            ]
            if case .markedRevoked(let binding, let change) = record.portal {
                metrics.change("markCertificateRevoked")
                metadata["bindingID"] = "\(binding)"
                metadata["changeID"] = "\(change)"
            }
            audit.info("change", metadata: metadata)
            return try Self.json(RevocationRecordDocument(record))
        }
        flows.post(":flowID/back") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(RevocationFlowDocument(try await lifecycle { try await revocation.back(flow: id) }))
        }
    }
}
