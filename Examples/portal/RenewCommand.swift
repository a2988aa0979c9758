import ArgumentParser
import CardCredentials
import CertificateRenewal
import Foundation
import PCSC
import Registration
import ToolSupport
import X509

/// `portal renew …`: the renewal flows.
struct RenewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Renew a certificate: IC card renewal (ICカード更新) or certificate update without login (電子証明書更新).",
        subcommands: [ICCardRenewalCommand.self, CertificateUpdateCommand.self])
}

/// `portal renew ic-card`: seeds 000 and 001, the current card and the new card swapped in one reader.
struct ICCardRenewalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ic-card",
        abstract: "ICカード更新: replace the current IC card by a new one, swapped in the same reader.",
        discussion: """
            Insert the current card; enter its PIN; when asked, take it out and insert the new card; enter the new \
            card's PIN; check the confirmation screen (電子証明書更新確認) and answer y (更新) or n (戻る). With \
            --pin-stdin the current card's PIN is the first line of standard input and the new card's the second.
            """)
    @OptionGroup var storage: StoreOptions
    @Option(help: "The user whose card is renewed (default: the user the current card is registered to).")
    var user: String?
    @Option(
        help:
            "The reader both cards go into: its number in `cardtool readers`, or part of its name (default: the only reader, or the one holding a card)."
    )
    var reader: String?
    @OptionGroup var checks: TrustOptions
    @Option(help: "Seconds to wait for a card to be inserted or taken out.") var wait = 120
    @Flag(help: "Read the two PINs from the first two lines of standard input.") var pinStdin = false
    @OptionGroup var lastTry: LastTryOption
    @OptionGroup var confirm: ConfirmOption

    func run() async throws {
        let service = try await storage.service()
        let environment = LifecycleEnvironment(
            service: service, validator: try checks.validator(), cardWaitTimeout: .seconds(wait))
        let context = try PCSCContext()
        let name = try await readerName(context)
        let slot = PCSCReaderSlot(context: context, name: name)
        let (userID, businessID) = try await owner(service: service, slot: slot)
        let renewal = ICCardRenewal(user: userID, of: businessID, slot: slot, environment: environment)
        try await drive(renewal)
    }

    /// The reader asked for; else the only reader; else the only one holding a card.
    private func readerName(_ context: PCSCContext) async throws -> String {
        try await ReaderChoice.resolve(reader, context: context, default: .onlyReaderOrReaderHoldingCard)
    }

    /// The user given, or the one the card in the reader is registered to.
    private func owner(service: RegistrationService, slot: PCSCReaderSlot) async throws -> (UserID, BusinessID) {
        if let user {
            let id = UserID(rawValue: user)
            guard let registration = try await service.store.registration(ofUser: id) else {
                throw RegistrationError.userNotFound(id)
            }
            return (id, registration.id)
        }
        if try await !slot.isCardPresent() {
            print(ICCardRenewalStep.insertCurrentCard.prompt)
            print("（現在使用しているICカードが挿入されるまで最大 \(wait) 秒待ちます / waiting up to \(wait) s for the card）")
            fflush(nil)
        }
        guard try await slot.waitForCard(timeout: .seconds(wait)) else {
            throw ToolFailure("No card was inserted into \(slot.name); insert the current card, or give --user.")
        }
        let connection = try await slot.connect()
        let certificate: Certificate
        do {
            certificate = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                .certificate()
            await connection.disconnect()
        } catch {
            await connection.disconnect()
            throw error
        }
        let fingerprint = try CertificateBinding.fingerprint(of: certificate)
        guard let registration = try await service.store.registration(boundTo: fingerprint),
            let binding = registration.binding(fingerprint: fingerprint)
        else { throw RegistrationError.certificateNotRegistered }
        return (binding.userID, registration.id)
    }

    private func drive(_ renewal: ICCardRenewal) async throws {
        var pinsRead = 0
        while true {
            let step = await renewal.step
            switch step {
            case .insertCurrentCard:
                show("【古いICカードの確認】 \(step.prompt)")
                Ask.pressEnter()
                showWaiting("現在使用しているICカード")
                try await renewal.readCurrentCard()
            case .enterCurrentPIN(let tries):
                show("【PIN番号の入力】 現在使用しているICカード" + (tries.map { "（残り \($0) 回）" } ?? ""))
                let pin = try readPIN(label: "PIN番号（現在使用しているICカード）", line: &pinsRead)
                try await retryingPIN { try await renewal.verifyCurrentPIN(pin, allowLastTry: lastTry.allowLastTry) }
            case .swapCards:
                show("【新しいICカードの確認】 \(step.prompt)")
                Ask.pressEnter()
                showWaiting("古いICカードが抜かれ、新しいICカード")
                try await renewal.swapCards()
            case .enterNewPIN(let tries):
                show("【PIN番号の入力】 新規に使用するICカード" + (tries.map { "（残り \($0) 回）" } ?? ""))
                let pin = try readPIN(label: "PIN番号（新規に使用するICカード）", line: &pinsRead)
                try await retryingPIN { try await renewal.verifyNewPIN(pin, allowLastTry: lastTry.allowLastTry) }
            case .confirm(let confirmation):
                show(Self.screen(confirmation), terminator: "")
                let yes = try confirm.yes || Ask.yesNo("更新しますか？ 更新する場合は y、戻る場合は n")
                guard yes else {
                    try await renewal.back()
                    show("戻る: 何も変更していません。")
                    throw Declined()
                }
                let done = try await renewal.update()
                show("【電子証明書更新結果】 \(RenewalCompletion.message)  受付番号 \(done.changeID)")
                show("旧ICカードの証明書 \(done.supersededBindingID) は更新済みとなり、ログインできません。")
                return
            case .completed:
                return
            }
        }
    }

    /// Prints and flushes at once, so a script (or a person behind a pipe) sees each step when it is asked.
    private func show(_ text: String, terminator: String = "\n") {
        print(text, terminator: terminator)
        fflush(nil)
    }

    /// Says that the tool waits, and for how long, while a card is inserted or swapped.
    private func showWaiting(_ what: String) {
        show("（\(what)が挿入されるまで最大 \(wait) 秒待ちます。Ctrl-C で中止します / waiting up to \(wait) s for the card）")
    }

    /// A wrong PIN on the terminal may be typed again (the flow stays at its step); from standard input it ends.
    private func retryingPIN(_ verify: () async throws -> Void) async throws {
        do {
            try await verify()
        } catch let error as LifecycleError {
            guard !pinStdin, error.code == .wrongPIN else { throw error }
            FileHandle.standardError.write(Data("portal: \(error)\n".utf8))
        }
    }

    private func readPIN(label: String, line: inout Int) throws -> SecretPIN {
        line += 1
        var bytes = pinStdin ? try PINInput.readStandardInput() : try PINInput.prompt("\(label): ")
        return try SecretPIN(wiping: &bytes, policy: ICCardProfile.procurementIdentitySimulator.pinPolicy)
    }

    /// 電子証明書更新確認: the two cards side by side, labels in the first column.
    static func screen(_ confirmation: RenewalConfirmation) -> String {
        var rows = [["", confirmation.current.heading, confirmation.new.heading]]
        for (current, new) in zip(confirmation.current.rows, confirmation.new.rows) {
            rows.append([current.label, current.value, new.value])
        }
        var text = "【\(RenewalConfirmation.title)】\n" + TerminalText.table(rows) + "\n"
        for note in confirmation.notes { text += "※ \(note)\n" }
        return text
    }
}
