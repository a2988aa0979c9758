import ArgumentParser
import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import PCSC
import Registration
import SimulatorDesk
import ToolSupport
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `portal revoke-request`: seed 003, the online revocation request (インターネット失効申込) to the simulator's CA.
struct RevokeRequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke-request",
        abstract: "インターネット失効申込: ask the certification authority to revoke an IC card, with the card in hand.",
        discussion: """
            Shows the conditions and the advice, opens the procedure (手続きの流れ) and the terms (利用規約), asks \
            for the agreement (同意して次へ), reads the card and its PIN, shows the card's contents, fills in the \
            request form, shows the confirmation (失効申込内容確認) and, once 上記内容を確認しました is ticked, sends \
            the request signed by the card (失効申込をする(確定)) to the simulator's CA in --ca-dir (the directory \
            `card-simulator ic-card --state DIR` writes: its CA lives in DIR/ca). The CA revokes the card and \
            publishes a new CRL (DIR/ca/eBidding/crl.der); the portal records the card's binding as revoked. For \
            scripts: --agree-terms, --reason, --name, --phone, --mail, --checked and --pin-stdin.
            """)
    @OptionGroup var storage: StoreOptions
    @Option(
        help: "The card-simulator state directory (its CA is DIR/ca), or the CA directory itself (card-simulator --ca)."
    )
    var caDir: String
    @Option(
        help:
            "The reader the card is in: its number in `cardtool readers`, or part of its name (default: the only reader, or the one holding a card)."
    )
    var reader: String?
    @Option(
        help: ArgumentHelp(
            "失効理由: \(ReasonChoice.listed) — by number, in Japanese, or by its English name "
                + "(\(RevocationRequestReason.allCases.map(\.rawValue).joined(separator: ", "))).",
            valueName: "失効理由"))
    var reason: String?
    @Option(help: "申込者氏名: who asks.") var name: String?
    @Option(help: "電話番号 (10 or 11 digits, hyphens allowed).") var phone: String?
    @Option(help: "メールアドレス.") var mail: String?
    @Option(help: "部署名 (optional; asked for on a terminal when left out).") var department: String?
    @Option(help: "備考 (optional; asked for on a terminal when left out).") var note: String?
    @Flag(help: "Agree to the terms (同意して次へ) after opening the procedure and the terms, without asking.")
    var agreeTerms = false
    @Flag(help: "Tick 上記内容を確認しました and send (確定) without asking.") var checked = false
    @Flag(help: "Read the PIN from standard input.") var pinStdin = false
    @OptionGroup var lastTry: LastTryOption
    @Option(help: "Write the printable record to FILE and the signed request (CMS, DER) to FILE.p7m.")
    var record: String?
    @Option(help: "Seconds to wait for the card.") var wait = 120

    /// A reason given on the command line is checked before anything else, so that a typo never costs a PIN try.
    func validate() throws {
        if let reason, ReasonChoice.parse(reason) == nil {
            throw ValidationError("--reason \(reason) is not a 失効理由; use one of: \(ReasonChoice.listed).")
        }
    }

    func run() async throws {
        let service = try await storage.service()
        let authority = try TestCertificateAuthority(directory: caDirectory)
        let crlURL = caDirectory.appending(path: "eBidding/crl.der")
        let crls =
            try FileManager.default.fileExists(atPath: crlURL.path)
            ? [CertificateRevocationList(bytes: [UInt8](Data(contentsOf: crlURL)))] : []
        let environment = LifecycleEnvironment(
            service: service,
            validator: CertificateValidator(
                trustAnchors: [authority.rootCertificate(.eBidding)], crls: crls, revocation: .whenAvailable),
            cardWaitTimeout: .seconds(wait))
        let context = try PCSCContext()
        let slot = PCSCReaderSlot(context: context, name: try await readerName(context))
        let request = RevocationRequest(
            slot: slot, environment: environment, authority: SimulatorRevocationDesk(authority: authority))
        try await drive(request)
    }

    /// DIR/ca when DIR is a card-simulator state, DIR itself when it is the CA's directory.
    private var caDirectory: URL {
        let directory = URL(fileURLWithPath: caDir)
        let nested = directory.appending(path: "ca")
        return FileManager.default.fileExists(atPath: nested.path) ? nested : directory
    }

    private func readerName(_ context: PCSCContext) async throws -> String {
        try await ReaderChoice.resolve(reader, context: context, default: .onlyReaderOrReaderHoldingCard)
    }

    private func drive(_ request: RevocationRequest) async throws {
        var unanswered = 0
        while true {
            let step = await request.step
            switch step {
            case .agreement:
                print("【ご注意】")
                for line in RevocationRequest.notice { print(line) }
                print("")
                print(try await request.openProcedure().text + "\n")
                print(try await request.openTerms().text + "\n")
                guard try agreeTerms || Ask.yesNo("手続きの流れと利用規約に同意して次へ進みますか？") else {
                    print("終了: 何も送信していません。")
                    throw Declined()
                }
                try await request.agree()
            case .insertCard:
                print(step.prompt)
                if !pinStdin { Ask.pressEnter() }
                print("（ICカードを最大 \(wait) 秒待ちます。Ctrl-C で中止します / waiting up to \(wait) s for the card）")
                fflush(nil)
                try await request.readCard()
            case .enterPIN(let tries):
                print("【PIN(暗証番号)の入力】" + (tries.map { "（残り \($0) 回）" } ?? ""))
                fflush(nil)
                var bytes = pinStdin ? try PINInput.readStandardInput() : try PINInput.prompt("PIN(暗証番号): ")
                let pin = try SecretPIN(wiping: &bytes, policy: ICCardProfile.procurementIdentitySimulator.pinPolicy)
                do {
                    try await request.verifyPIN(pin, allowLastTry: lastTry.allowLastTry)
                } catch {
                    guard !pinStdin, error.code == .wrongPIN else { throw error }
                    FileHandle.standardError.write(Data("portal: \(error)\n".utf8))
                }
            case .reviewCard(let contents):
                print("【ICカードの内容】")
                print(TerminalText.table(contents.rows.map { [$0.label, $0.value] }))
                try await request.continueToForm()
            case .fillForm:
                try await request.fill(try form())
            case .confirm(let confirmation, let isChecked):
                if !isChecked {
                    print("【\(RevocationConfirmation.title)】")
                    print(TerminalText.table(confirmation.rows.map { [$0.label, $0.value] }))
                    for note in RevocationConfirmation.notes { print("※ \(note)") }
                    guard try checked || Ask.yesNo("\(RevocationConfirmation.checkLabel)（y で確定、n で戻る）")
                    else {
                        try await request.back()
                        print("戻る: 何も送信していません。")
                        throw Declined()
                    }
                    try await request.setChecked(true)
                }
                try await send(request, unanswered: &unanswered)
            case .awaitingReceipt:
                try await send(request, unanswered: &unanswered)
            case .completed(let done):
                print("【失効申込受付】 受付番号 \(done.receipt.receiptNumber)")
                print(done.portal.description)
                print("")
                print(done.text, terminator: "")
                if let record {
                    try done.text.write(toFile: record, atomically: true, encoding: .utf8)
                    try Data(done.cmsFile).write(to: URL(fileURLWithPath: record + ".p7m"))
                    print("記録: \(record), \(record).p7m")
                }
                return
            }
        }
    }

    /// 確定: an answer that does not arrive is waited for by sending the same request again, three times at most.
    private func send(_ request: RevocationRequest, unanswered: inout Int) async throws {
        do {
            try await request.submit()
        } catch {
            guard error.code == .revocationNotAnswered else { throw error }
            unanswered += 1
            guard unanswered < 3 else { throw error }
            let reason = error.reason ?? ""
            FileHandle.standardError.write(Data("portal: no answer (\(reason)); sending the same request again\n".utf8))
        }
    }

    /// The form from the options, asking on the terminal for what is missing: the reason is asked again until it
    /// is one of the list; 部署名 and 備考 may be left empty.
    private func form() throws -> RevocationRequestForm {
        func value(_ given: String?, _ label: String, required: Bool = true) throws -> String {
            if let given { return given }
            // A script (standard input not a terminal) leaves the optional fields empty rather than be asked.
            if !required, isatty(STDIN_FILENO) != 1 { return "" }
            guard let line = Ask.text(label, required: required) else {
                throw ToolFailure("\(label) was not given (the input ended); nothing was sent.")
            }
            return line
        }
        let chosen: RevocationRequestReason
        if let reason, let parsed = ReasonChoice.parse(reason) {
            chosen = parsed
        } else {
            FileHandle.standardError.write(Data("失効理由:\n".utf8))
            for (index, reason) in RevocationRequestReason.allCases.enumerated() {
                FileHandle.standardError.write(Data("  \(index + 1). \(reason.japaneseLabel)\n".utf8))
            }
            guard
                let answer = Ask.choice(
                    "失効理由（番号または名称）",
                    RevocationRequestReason.allCases.enumerated().map { index, reason in
                        (ReasonChoice.names(of: reason, number: index + 1), reason)
                    })
            else { throw ToolFailure("失効理由 was not given (the input ended); nothing was sent.") }
            chosen = answer
        }
        return RevocationRequestForm(
            reason: chosen, requesterName: try value(name, "申込者氏名"), phone: try value(phone, "電話番号"),
            mail: try value(mail, "メールアドレス"), department: try value(department, "部署名", required: false),
            note: try value(note, "備考", required: false))
    }
}

/// 失効理由 as people type them: the number of the list, the Japanese label (or its first words), the English name.
enum ReasonChoice {
    static func names(of reason: RevocationRequestReason, number: Int) -> [String] {
        var names = [String(number), reason.japaneseLabel, reason.rawValue]
        // 秘密鍵の危殆化（PINの漏えいを含む） is also typed without its parenthesis.
        if let short = reason.japaneseLabel.split(separator: "（").first { names.append(String(short)) }
        return names
    }

    static func parse(_ text: String) -> RevocationRequestReason? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (index, reason) in RevocationRequestReason.allCases.enumerated()
        where names(of: reason, number: index + 1).contains(trimmed) {
            return reason
        }
        return nil
    }

    /// The list as the form shows it: 1=紛失, 2=盗難, ….
    static var listed: String {
        RevocationRequestReason.allCases.enumerated().map { "\($0 + 1)=\($1.japaneseLabel)" }.joined(separator: ", ")
    }
}
