import ArgumentParser
import CardCredentials
import CertificateRenewal
import Foundation
import ISO7816
import PCSC
import Registration
import SimulatorDesk
import ToolSupport
import X509

/// Options the lifecycle commands share: the trust anchors, CRLs, the reader and the wait.
struct UpdateFlowOptions: ParsableArguments {
    @Option(
        help:
            "The reader the cards go into: its number in `cardtool readers`, or part of its name (default: the only reader, or the one holding a card)."
    )
    var reader: String?
    @OptionGroup var checks: TrustOptions
    @Option(help: "Seconds to wait for a card to be inserted or taken out.") var wait = 120

    func environment(_ service: RegistrationService) throws -> LifecycleEnvironment {
        LifecycleEnvironment(service: service, validator: try checks.validator(), cardWaitTimeout: .seconds(wait))
    }

    func slot() async throws -> PCSCReaderSlot {
        let context = try PCSCContext()
        let name = try await ReaderChoice.resolve(reader, context: context, default: .onlyReaderOrReaderHoldingCard)
        return PCSCReaderSlot(context: context, name: name)
    }
}

/// What the update and power-of-attorney commands print and ask.
enum UpdateScreens {
    /// Prints and flushes at once, so a script sees each step when it is asked.
    static func show(_ text: String, terminator: String = "\n") {
        print(text, terminator: terminator)
        fflush(nil)
    }

    /// Reads one secret: the next line of standard input with `--pin-stdin`, else a no-echo prompt.
    static func readSecret(_ label: String, policy: PINPolicy, stdin: Bool) throws -> SecretPIN {
        var bytes = stdin ? try PINInput.readStandardInput() : try PINInput.prompt("\(label): ")
        return try SecretPIN(wiping: &bytes, policy: policy)
    }

    /// Sections of labeled rows as one aligned table.
    static func sectionsTable(_ title: String, _ sections: [(heading: String, rows: [ScreenRow])], notes: [String])
        -> String
    {
        var rows: [[String]] = []
        for section in sections {
            rows.append(["【\(section.heading)】", ""])
            rows += section.rows.map { ["  " + $0.label, $0.value] }
        }
        var text = "【\(title)】\n" + TerminalText.table(rows) + "\n"
        for note in notes { text += "※ \(note)\n" }
        return text
    }
}

/// `portal renew certificate`: 電子証明書更新 (seed 002), without login.
struct CertificateUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate",
        abstract: "電子証明書更新: update a registered certificate without logging in (e.g. after it expired).",
        discussion: """
            Private certificates: the registered IC card (or --old-pkcs12) and its PIN, then the new IC card \
            swapped into the same reader (or --new-pkcs12) and its PIN. My Number card (--my-number): the signing \
            PIN; with your consent (--consent) the new signing certificate is obtained from JPKI (--jpki-linkage). \
            With --pin-stdin the secrets are read one per line from standard input, in the order asked. The change \
            is recorded as made by the portal, since no one is logged in.
            """)
    @OptionGroup var storage: StoreOptions
    @OptionGroup var lifecycle: UpdateFlowOptions
    @Flag(help: "Update a My Number card's signing certificate (マイナンバーカード).") var myNumber = false
    @Option(help: "The registered file-type certificate (PKCS#12) instead of an IC card.") var oldPkcs12: String?
    @Option(help: "The new file-type certificate (PKCS#12) instead of an IC card.") var newPkcs12: String?
    @Option(
        help:
            "The JPKI linkage for a My Number card (JSON: successors with serial, cause and certificate; Documentation/Flows/CertificateUpdate.md)."
    ) var jpkiLinkage: String?
    @Flag(help: "Consent to obtaining the old My Number card's information from JPKI (同意する).") var consent = false
    @Flag(help: "Read the PINs and passwords from standard input, one per line.") var pinStdin = false
    @OptionGroup var lastTry: LastTryOption
    @OptionGroup var confirm: ConfirmOption

    func run() async throws {
        let service = try await storage.service()
        let environment = try lifecycle.environment(service)
        let needsReader = myNumber || oldPkcs12 == nil || newPkcs12 == nil
        let slot: (any CardSlot)? = needsReader ? try await lifecycle.slot() : nil
        let linkage = try jpkiLinkage.map { try JPKILinkageFile(path: $0) }
        let update = CertificateUpdate(slot: slot, environment: environment, linkage: linkage)
        try await drive(update)
    }

    private func drive(_ update: CertificateUpdate) async throws {
        let cardPolicy = ICCardProfile.procurementIdentitySimulator.pinPolicy
        while true {
            let step = await update.step
            switch step {
            case .chooseType:
                try await update.choose(myNumber ? .myNumberCard : .privateCertificate)
            case .readCurrent(.myNumberCard):
                UpdateScreens.show("【更新する電子証明書の種別選択】 \(step.prompt)")
                let agreed = try consent || Ask.yesNo("公的個人認証サービスからの情報取得に同意しますか？")
                let pin = try UpdateScreens.readSecret(
                    "署名用電子証明書のパスワード", policy: .jpkiSigning, stdin: pinStdin)
                try await update.readMyNumberCard(signingPIN: pin, consent: agreed, allowLastTry: lastTry.allowLastTry)
            case .readCurrent(.privateCertificate):
                UpdateScreens.show("【更新する電子証明書の種別選択】 \(step.prompt)")
                if let oldPkcs12 {
                    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: oldPkcs12)))
                    let password = try UpdateScreens.readSecret(
                        "\(oldPkcs12) のパスワード", policy: CertificateSource.passwordPolicy, stdin: pinStdin)
                    try await update.readCurrentFile(bytes, password: password)
                } else {
                    let pin = try UpdateScreens.readSecret(
                        "PIN番号（登録済みのICカード）", policy: cardPolicy, stdin: pinStdin)
                    try await update.readCurrentICCard(pin: pin, allowLastTry: lastTry.allowLastTry)
                }
            case .readNew:
                UpdateScreens.show("【更新する電子証明書の読み込み】 \(step.prompt)")
                if let newPkcs12 {
                    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: newPkcs12)))
                    let password = try UpdateScreens.readSecret(
                        "\(newPkcs12) のパスワード", policy: CertificateSource.passwordPolicy, stdin: pinStdin)
                    try await update.readNewFile(bytes, password: password)
                } else {
                    Ask.pressEnter()
                    let pin = try UpdateScreens.readSecret("PIN番号（新しいICカード）", policy: cardPolicy, stdin: pinStdin)
                    UpdateScreens.show(
                        "（新しいICカードが挿入されるまで最大 \(lifecycle.wait) 秒待ちます。Ctrl-C で中止します / waiting up to "
                            + "\(lifecycle.wait) s for the card）")
                    try await update.readNewICCard(pin: pin, allowLastTry: lastTry.allowLastTry)
                }
            case .confirm(let confirmation):
                UpdateScreens.show(
                    UpdateScreens.sectionsTable(
                        CertificateUpdateConfirmation.title, confirmation.sections, notes: confirmation.notes),
                    terminator: "")
                let yes = try confirm.yes || Ask.yesNo("更新実行しますか？ 更新する場合は y、戻る場合は n")
                guard yes else {
                    try await update.back()
                    UpdateScreens.show("戻る: 何も変更していません。")
                    throw Declined()
                }
                let done = try await update.update()
                UpdateScreens.show("【電子証明書更新完了】 \(CertificateUpdateCompletion.message)  受付番号 \(done.changeID)")
                UpdateScreens.show("GEPSへの連携と完了通知メールを送信待ちにしました (\(done.outbox.count) 件)。")
                return
            case .completed:
                return
            }
        }
    }
}
