import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import Registration

// The expired power of attorney across the network (マイナンバーカード電子委任状更新, 利用者情報削除): the library's
// RemotePowerOfAttorney does the work (the rules of `portal poa renew`); these routes carry its state, challenges and
// evidence as JSON, for the agent of the session.

/// `POST …/request`: 取得依頼.
struct PowerOfAttorneyRequestBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case applicationNumber }
    typealias Keys = CodingKeys
    /// 申込番号 of the 電子委任状取扱事業者.
    var applicationNumber: String
}

/// `POST …/delete`: 削除, with the acknowledgement that it cannot be undone.
struct AgentDeletionBody: StrictBody {
    enum CodingKeys: String, CodingKey, CaseIterable { case acknowledgeIrreversible }
    typealias Keys = CodingKeys
    var acknowledgeIrreversible: Bool
}

extension PortalRoutes {
    struct PowerOfAttorneyFlowDocument: Encodable {
        var flowID: String
        /// expired, renewal-card, request, confirm-renewal, deletion-card, confirm-deletion, renewed or deleted.
        var step: String
        var expiresAt: Date
        var changeID: String?

        init(_ state: PowerOfAttorneyState) {
            flowID = state.flowID
            step = state.step.rawValue
            expiresAt = state.expiresAt
            changeID = state.changeID?.rawValue
        }
    }

    struct PowerOfAttorneyNoticeDocument: Encodable {
        /// The 失効画面's message.
        var message: String
        var agentName: String
        /// The expired power of attorney's 有効期間 and reference.
        var validUntil: Date
        var reference: String
        /// 電子委任状更新, 代理人情報削除.
        var choices: [String]
    }

    struct SectionsDocument: Encodable {
        struct Section: Encodable {
            var heading: String
            var rows: [ScreenRow]
        }
        var title: String
        var sections: [Section]
        var notes: [String]
    }

    struct PowerOfAttorneyCompletionDocument: Encodable {
        var message: String
        var changeID: String
        var version: Int
    }

    func addPowerOfAttorneyRoutes(to authenticated: RouterGroup<PortalRequestContext>) {
        let desk = dependencies.powerOfAttorney
        let limit = settings.bodyLimit
        let flows = authenticated.group("flows/power-of-attorney")
        flows.post { _, context in
            let state = try await lifecycle { try await desk.start(for: context.requireSession().session) }
            return try Self.json(PowerOfAttorneyFlowDocument(state), status: .created)
        }
        flows.get(":flowID") { _, context in
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle { try await desk.state(of: id, session: context.requireSession().session) }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
        flows.get(":flowID/notice") { _, context in
            let id = try context.parameters.require("flowID")
            let notice = try await lifecycle {
                try await desk.notice(flow: id, session: context.requireSession().session)
            }
            return try Self.json(
                PowerOfAttorneyNoticeDocument(
                    message: PowerOfAttorneyExpiredNotice.message, agentName: notice.agentName,
                    validUntil: notice.powerOfAttorney.validUntil, reference: notice.powerOfAttorney.reference,
                    choices: notice.choices))
        }
        flows.post(":flowID/renewal") { _, context in
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle {
                try await desk.chooseRenewal(flow: id, session: context.requireSession().session)
            }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
        flows.post(":flowID/deletion") { _, context in
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle {
                try await desk.chooseDeletion(flow: id, session: context.requireSession().session)
            }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
        flows.post(":flowID/challenge") { _, context in
            let id = try context.parameters.require("flowID")
            let challenge = try await lifecycle {
                try await desk.challenge(for: id, session: context.requireSession().session)
            }
            return try Self.json(challenge, status: .created)
        }
        flows.post(":flowID/renewal-card") { request, context in
            let id = try context.parameters.require("flowID")
            let evidence = try await request.decodeStrictly(LoginAnswerBody.self, limit: limit).evidence()
            let state = try await lifecycle {
                try await desk.presentRenewalCard(evidence, flow: id, session: context.requireSession().session)
            }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
        flows.post(":flowID/deletion-card") { request, context in
            let id = try context.parameters.require("flowID")
            let evidence = try await request.decodeStrictly(LoginAnswerBody.self, limit: limit).evidence()
            let state = try await lifecycle {
                try await desk.presentDeletionCard(evidence, flow: id, session: context.requireSession().session)
            }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
        flows.post(":flowID/request") { request, context in
            let id = try context.parameters.require("flowID")
            let body = try await request.decodeStrictly(PowerOfAttorneyRequestBody.self, limit: limit)
            let state = try await lifecycle {
                try await desk.request(
                    applicationNumber: body.applicationNumber, flow: id, session: context.requireSession().session)
            }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
        flows.get(":flowID/confirmation") { _, context in
            let id = try context.parameters.require("flowID")
            let session = try context.requireSession().session
            let state = try await lifecycle { try await desk.state(of: id, session: session) }
            if state.step == .confirmDeletion {
                let screen = try await lifecycle { try await desk.deletionConfirmation(flow: id, session: session) }
                return try Self.json(
                    SectionsDocument(
                        title: AgentDeletionConfirmation.title,
                        sections: [
                            .init(heading: "利用者基本情報", rows: screen.user),
                            .init(heading: "電子証明書情報", rows: screen.certificates),
                            .init(heading: "マイナンバーカード電子委任状情報", rows: screen.powerOfAttorney),
                        ], notes: screen.notes))
            }
            let screen = try await lifecycle { try await desk.renewalConfirmation(flow: id, session: session) }
            return try Self.json(
                SectionsDocument(
                    title: PowerOfAttorneyConfirmation.title,
                    sections: screen.sections.map { .init(heading: $0.heading, rows: $0.rows) }, notes: []))
        }
        flows.post(":flowID/renew") { _, context in
            let id = try context.parameters.require("flowID")
            let session = try context.requireSession().session
            let completion = try await lifecycle { try await desk.renew(flow: id, session: session) }
            auditChange("renewPowerOfAttorney", flow: id, session: session, completion)
            return try Self.json(
                PowerOfAttorneyCompletionDocument(
                    message: PowerOfAttorneyCompletion.renewedMessage, changeID: completion.changeID.rawValue,
                    version: completion.registration.version))
        }
        flows.post(":flowID/delete") { request, context in
            let id = try context.parameters.require("flowID")
            let session = try context.requireSession().session
            let body = try await request.decodeStrictly(AgentDeletionBody.self, limit: limit)
            let completion = try await lifecycle {
                try await desk.delete(
                    acknowledgingIrreversible: body.acknowledgeIrreversible, flow: id, session: session)
            }
            auditChange("deleteUser", flow: id, session: session, completion)
            return try Self.json(
                PowerOfAttorneyCompletionDocument(
                    message: PowerOfAttorneyCompletion.deletedMessage, changeID: completion.changeID.rawValue,
                    version: completion.registration.version))
        }
        flows.post(":flowID/back") { _, context in
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle { try await desk.back(flow: id, session: context.requireSession().session) }
            return try Self.json(PowerOfAttorneyFlowDocument(state))
        }
    }

    private func auditChange(
        _ kind: String, flow: String, session: LoginSession, _ completion: PowerOfAttorneyCompletion
    ) {
        metrics.change(kind)
        audit.info(
            "change",
            metadata: [
                "event": "change", "kind": "\(kind)", "flow": "power-of-attorney", "flowID": "\(flow)",
                "userID": "\(session.userID)", "businessID": "\(session.businessID)",
                "changeID": "\(completion.changeID)", "version": "\(completion.registration.version)",
            ])
    }
}
