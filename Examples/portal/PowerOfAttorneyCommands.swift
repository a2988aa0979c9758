import ArgumentParser
import CardCredentials
import CertificateRenewal
import Foundation
import Registration
import SimulatorDesk
import ToolSupport
import X509

/// The agent and the options of the expired-power-of-attorney commands.
struct ExpiredAgentOptions: ParsableArguments {
    @Option(help: "The agent (U-…) whose power of attorney expired.") var agent: String
    @Option(
        help:
            "The JPKI linkage that pairs the card's certificates (JSON: pairs of an authentication certificate's serial and the signing certificate; Documentation/Flows/PowerOfAttorney.md)."
    ) var jpkiLinkage: String?
    @Flag(help: "Read the PIN from the first line of standard input.") var pinStdin = false
    @OptionGroup var lastTry: LastTryOption
    var allowLastTry: Bool { lastTry.allowLastTry }

    func flow(
        service: RegistrationService, options: UpdateFlowOptions, provider: any ElectronicPOAProvider
    ) async throws -> PowerOfAttorneyFlow {
        let id = UserID(rawValue: agent)
        guard let registration = try await service.store.registration(ofUser: id) else {
            throw RegistrationError.userNotFound(id)
        }
        let linkage = try jpkiLinkage.map { try JPKILinkageFile(path: $0) }
        return PowerOfAttorneyFlow(
            user: id, of: registration.id, slot: try await options.slot(),
            environment: try options.environment(service),
            provider: provider, linkage: linkage)
    }
}

extension ExpiredAgentOptions {
    /// Shows the 失効画面 (マイナンバーカード電子委任状失効) the flow opened on, before either choice.
    static func showExpiredNotice(of flow: PowerOfAttorneyFlow) async {
        guard case .expired(let notice) = await flow.step else { return }
        UpdateScreens.show("【マイナンバーカード電子委任状失効】 \(notice.agentName): \(PowerOfAttorneyExpiredNotice.message)")
    }
}

/// `portal poa renew`: マイナンバーカード電子委任状更新 for an agent whose power of attorney expired.
struct PowerOfAttorneyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poa", abstract: "電子委任状: renew an expired power of attorney.", subcommands: [Renew.self])

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "マイナンバーカード電子委任状更新: read the agent's My Number card (signing PIN), request a fresh power "
                + "of attorney, confirm and update.")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var lifecycle: UpdateFlowOptions
        @OptionGroup var agent: ExpiredAgentOptions
        @Option(help: "申込番号: the provider's application number of the power of attorney.") var applicationNumber: String
        @Option(help: "The 電子委任状取扱事業者's name.") var provider = "電子委任状取扱事業者"
        @Option(
            help:
                "The power of attorney the provider issued (JSON: principal, agent, authority, validFrom and validUntil in ISO 8601, reference; Documentation/Flows/PowerOfAttorney.md)."
        )
        var document: String
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            let service = try await storage.service()
            let flow = try await agent.flow(
                service: service, options: lifecycle, provider: try POADocumentProvider(path: document, name: provider))
            try await flow.open()
            await ExpiredAgentOptions.showExpiredNotice(of: flow)
            try await flow.chooseRenewal()
            UpdateScreens.show(PowerOfAttorneyStep.readCardForRenewal.prompt)
            let pin = try UpdateScreens.readSecret(
                "署名用電子証明書のパスワード", policy: .jpkiSigning, stdin: agent.pinStdin)
            try await flow.readCardForRenewal(signingPIN: pin, allowLastTry: agent.allowLastTry)
            try await flow.request(applicationNumber: applicationNumber)
            guard case .confirmRenewal(let confirmation) = await flow.step else { return }
            UpdateScreens.show(
                UpdateScreens.sectionsTable(PowerOfAttorneyConfirmation.title, confirmation.sections, notes: []),
                terminator: "")
            let yes = try confirm.yes || Ask.yesNo("電子委任状を更新しますか？ 更新する場合は y、戻る場合は n")
            guard yes else {
                try await flow.back()
                UpdateScreens.show("戻る: 何も変更していません。")
                throw Declined()
            }
            let done = try await flow.renew()
            UpdateScreens.show(
                "【マイナンバーカード電子委任状更新完了】 \(PowerOfAttorneyCompletion.renewedMessage)  受付番号 \(done.changeID)")
        }
    }
}

/// `portal agent delete`: 利用者情報削除 of an agent whose power of attorney expired.
struct AgentDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "利用者情報削除: delete an agent registered with a My Number card whose power of attorney expired "
            + "(user-authentication PIN, 4 digits). Irreversible.")
    @OptionGroup var storage: StoreOptions
    @OptionGroup var lifecycle: UpdateFlowOptions
    @OptionGroup var agent: ExpiredAgentOptions
    @OptionGroup var confirm: ConfirmOption

    /// The deletion proves the card is the agent's only through JPKI's pairing: without it, stop before any PIN.
    func validate() throws {
        guard agent.jpkiLinkage != nil else {
            throw ValidationError(
                "--jpki-linkage is required: JPKI's pairing of the card's certificates proves the card is the agent's.")
        }
    }

    func run() async throws {
        let service = try await storage.service()
        let flow = try await agent.flow(service: service, options: lifecycle, provider: NoPowerOfAttorneyProvider())
        try await flow.open()
        await ExpiredAgentOptions.showExpiredNotice(of: flow)
        try await flow.chooseDeletion()
        UpdateScreens.show(PowerOfAttorneyStep.readCardForDeletion.prompt)
        let pin = try UpdateScreens.readSecret(
            "利用者証明用電子証明書のパスワード", policy: .jpkiAuthentication,
            stdin: agent.pinStdin)
        try await flow.readCardForDeletion(authenticationPIN: pin, allowLastTry: agent.allowLastTry)
        guard case .confirmDeletion(let confirmation) = await flow.step else { return }
        UpdateScreens.show(
            UpdateScreens.sectionsTable(
                AgentDeletionConfirmation.title, confirmation.sections, notes: confirmation.notes),
            terminator: "")
        let yes = try confirm.yes || Ask.yesNo("削除した利用者情報は元に戻せません。削除しますか？")
        guard yes else {
            try await flow.back()
            UpdateScreens.show("戻る: 何も変更していません。")
            throw Declined()
        }
        let done = try await flow.delete(acknowledgingIrreversible: true)
        UpdateScreens.show("【利用者情報削除完了】 \(PowerOfAttorneyCompletion.deletedMessage)  受付番号 \(done.changeID)")
    }
}
