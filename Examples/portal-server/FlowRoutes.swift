import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import Registration

// The IC card renewal (ICカード更新) across the network: the library's RemoteICCardRenewal does the work (the same
// rules as the `portal renew ic-card` tool); these routes only carry its state, its challenges and the card
// evidence as JSON. Any instance continues a flow: its state lives in the registration database.

extension PortalRoutes {
    struct FlowDocument: Encodable {
        var flowID: String
        /// current-card, new-card, confirm or completed.
        var step: String
        var expiresAt: Date
        /// The change committed, once completed.
        var changeID: String?

        init(_ state: ICCardRenewalState) {
            flowID = state.flowID
            step = state.step.rawValue
            expiresAt = state.expiresAt
            changeID = state.changeID?.rawValue
        }
    }

    struct ConfirmationDocument: Encodable {
        struct Block: Encodable {
            var heading: String
            var fingerprint: String
            var rows: [ScreenRow]
        }
        /// 電子証明書更新確認.
        var title: String
        var blocks: [Block]
        var notes: [String]
    }

    struct CompletionDocument: Encodable {
        var message: String
        var changeID: String
        var version: Int
        var supersededBindingID: String
        var newBindingID: String
    }

    func addFlowRoutes(to authenticated: RouterGroup<PortalRequestContext>) {
        let renewal = dependencies.renewal
        let limit = settings.bodyLimit
        let flows = authenticated.group("flows/ic-card-renewal")
        flows.post { _, context in
            let state = try await lifecycle { try await renewal.start(for: context.requireSession().session) }
            return try Self.json(FlowDocument(state), status: .created)
        }
        flows.get(":flowID") { _, context in
            let id = try context.parameters.require("flowID")
            return try Self.json(
                FlowDocument(
                    try await lifecycle { try await renewal.state(of: id, session: context.requireSession().session) }))
        }
        flows.post(":flowID/challenge") { _, context in
            let id = try context.parameters.require("flowID")
            let challenge = try await lifecycle {
                try await renewal.challenge(for: id, session: context.requireSession().session)
            }
            return try Self.json(challenge, status: .created)
        }
        flows.post(":flowID/current-card") { request, context in
            let id = try context.parameters.require("flowID")
            let evidence = try await request.decodeStrictly(LoginAnswerBody.self, limit: limit).evidence()
            let state = try await lifecycle {
                try await renewal.presentCurrentCard(evidence, flow: id, session: context.requireSession().session)
            }
            return try Self.json(FlowDocument(state))
        }
        flows.post(":flowID/new-card") { request, context in
            let id = try context.parameters.require("flowID")
            let evidence = try await request.decodeStrictly(LoginAnswerBody.self, limit: limit).evidence()
            let state = try await lifecycle {
                try await renewal.presentNewCard(evidence, flow: id, session: context.requireSession().session)
            }
            return try Self.json(FlowDocument(state))
        }
        flows.get(":flowID/confirmation") { _, context in
            let id = try context.parameters.require("flowID")
            let confirmation = try await lifecycle {
                try await renewal.confirmation(flow: id, session: context.requireSession().session)
            }
            return try Self.json(
                ConfirmationDocument(
                    title: RenewalConfirmation.title,
                    blocks: confirmation.blocks.map {
                        ConfirmationDocument.Block(heading: $0.heading, fingerprint: $0.fingerprint, rows: $0.rows)
                    }, notes: confirmation.notes))
        }
        flows.post(":flowID/update") { _, context in
            let id = try context.parameters.require("flowID")
            let session = try context.requireSession().session
            let completion = try await lifecycle { try await renewal.update(flow: id, session: session) }
            metrics.change("replaceCertificate")
            audit.info(
                "change",
                metadata: [
                    "event": "change", "kind": "replaceCertificate", "flow": "ic-card-renewal", "flowID": "\(id)",
                    "userID": "\(session.userID)", "businessID": "\(session.businessID)",
                    "changeID": "\(completion.changeID)", "version": "\(completion.registration.version)",
                ])
            return try Self.json(
                CompletionDocument(
                    message: RenewalCompletion.message, changeID: completion.changeID.rawValue,
                    version: completion.registration.version,
                    supersededBindingID: completion.supersededBindingID.rawValue,
                    newBindingID: completion.newBindingID.rawValue))
        }
        flows.post(":flowID/back") { _, context in
            let id = try context.parameters.require("flowID")
            let state = try await lifecycle {
                try await renewal.back(flow: id, session: context.requireSession().session)
            }
            return try Self.json(FlowDocument(state))
        }
    }

    /// Runs a step of a flow, its `LifecycleError` as a problem document.
    func lifecycle<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as LifecycleError { throw Problem(error) }
    }
}

extension Problem {
    /// A flow's refusal, by its code: the one table of the flows' HTTP statuses. The rule is the code's name
    /// (`LifecycleError.Code.rawValue`); the status says whose move it is. The registration desk's own refusals
    /// go through `RegistrationError`'s table; any other code — the rules of the flow refused the card (expired,
    /// revoked, another company's, the same card, …) — is 422, and the person acts on the sentence.
    init(_ error: LifecycleError) {
        if error.code == .registration, let inner = error.registrationError {
            self.init(inner)
            return
        }
        let (status, title): (HTTPResponse.Status, String) =
            switch error.code {
            case .notAtStep: (.conflict, "手順が違います")
            case .flowNotFound: (.notFound, "手続が見つかりません")
            case .flowExpired: (.gone, "手続の有効期限が切れました")
            case .registrationChanged: (.conflict, "登録情報が更新されています")
            case .confirmationExpired: (.conflict, "確認画面の有効期限が切れました")
            case .documentsNotOpened: (.unprocessableContent, "手続きの流れと利用規約を確認してください")
            case .requestFormInvalid: (.unprocessableContent, "入力内容に誤りがあります")
            case .confirmationNotChecked: (.unprocessableContent, "「上記内容を確認しました」にチェックしてください")
            case .paperProcedureRequired: (.unprocessableContent, "書面による失効申込をしてください")
            case .alreadyRevoked: (.unprocessableContent, "この電子証明書は失効しています")
            case .revocationRefused: (.unprocessableContent, "認証局が失効申込を受け付けませんでした")
            case .revocationAlreadySubmitted: (.conflict, "失効申込は送信済みです")
            case .revocationNotAnswered: (.serviceUnavailable, "認証局から応答がありません")
            case .contractIDFormat: (.unprocessableContent, "契約者IDは11桁の数字です")
            case .signInRejected: (.forbidden, "ID又は暗証番号が正しくありません")
            case .serviceLocked: (.forbidden, "ロックされています")
            case .notTheAdministrator: (.forbidden, "管理者のみ再発行できます")
            case .reissueUserNotFound: (.notFound, "利用者が見つかりません")
            case .enrollmentCodeInvalid: (.forbidden, "取得コードが正しくありません")
            case .enrollmentCodeExpired: (.gone, "取得コードの有効期限が切れました")
            case .certificateRequestRefused: (.unprocessableContent, "証明書の発行要求を受け付けできません")
            case .certificateAuthorityUnavailable: (.serviceUnavailable, "認証局から応答がありません")
            case .issuedCertificateMismatch: (.badGateway, "認証局の応答が正しくありません")
            case .reissueStoreFailure: (.serviceUnavailable, "データベースを利用できません")
            case .powerOfAttorneyRequestFailed: (.unprocessableContent, "電子委任状を取得できませんでした")
            case .powerOfAttorneyMismatch: (.unprocessableContent, "電子委任状の内容が登録情報と一致しません")
            default: (.unprocessableContent, "この電子証明書では手続できません")
            }
        self.init(status, rule: error.code.rawValue, title: title, detail: error.description)
    }
}
