import ArgumentParser
import CardCredentials
import CertificateRenewal
import Crypto
import Foundation
import Registration
import SimulatorDesk
import ToolSupport
import X509

/// `portal reissue …`: certificate reissue on a new computer (seed 004).
struct ReissueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reissue",
        abstract: "電子証明書の再発行: the administrator reissues a user's certificate; the user obtains it on a new computer.",
        discussion: """
            The contracts (契約者ID, passwords, lock state) and one-time codes are kept in a JSON file (--accounts); \
            the reference certification authority (a P-256 key and root made on first use) in a folder (--ca). \
            Passwords are asked for without echo, or read one per line from standard input with --password-stdin.
            """,
        subcommands: [ReissueContract.self, ReissueRequest.self, ReissueEnroll.self, ReissueCARoot.self])
}

/// Where the reissue records live.
struct ReissueOptions: ParsableArguments {
    @Option(help: "The JSON file of contracts, lock state and enrollment codes.") var accounts = "reissue-accounts.json"
    @Option(help: "The folder of the reference certification authority (created on first use).") var ca = "reissue-ca"
    @Option(help: "More trusted root certificates (PEM), e.g. the administrator certificate's CA.") var trust:
        [String] =
            []
    @Flag(help: "Read passwords from standard input, one per line, in the order the command's help gives.")
    var passwordStdin = false

    func desk(service: RegistrationService) throws -> ReissueDesk {
        let authority = try FolderReissueAuthority(folder: ca)
        var anchors = [authority.root]
        for path in trust {
            anchors += try PEMText.certificates(in: String(contentsOfFile: path, encoding: .utf8), source: path)
        }
        return ReissueDesk(
            environment: LifecycleEnvironment(service: service, validator: CertificateValidator(trustAnchors: anchors)),
            accounts: JSONReissueAccountStore(path: accounts), authority: authority)
    }

    func password(_ prompt: String) throws -> SecretPIN {
        var bytes = passwordStdin ? try PINInput.readStandardInput() : try PINInput.prompt(prompt)
        return try SecretPIN(wiping: &bytes, policy: .password())
    }
}

/// `portal reissue contract`: records a contract (契約者ID) with its administrator and users.
struct ReissueContract: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract",
        abstract: "Record a contract: 契約者ID, the administrator (代表者) and users with their passwords.",
        discussion: """
            With --password-stdin: the administrator's ご契約先暗証番号 and ご契約先確認暗証番号, then for each --user \
            its 利用者暗証番号 and 利用者確認暗証番号, one per line.
            """)
    @OptionGroup var storage: StoreOptions
    @OptionGroup var options: ReissueOptions
    @Option(help: "契約者ID: 11 digits.") var contract: String
    @Option(help: "The administrator: the business's representative (U-…).") var administrator: String
    @Option(help: "A user as 利用者ID=U-… (repeat).") var user: [String] = []

    func run() async throws {
        let service = try await storage.service()
        let adminID = UserID(rawValue: administrator)
        guard let registration = try await service.store.registration(ofUser: adminID) else {
            throw RegistrationError.userNotFound(adminID)
        }
        let passwords = try PasswordPair(
            password: try options.password("ご契約先暗証番号: "), confirmation: try options.password("ご契約先確認暗証番号: "))
        var users: [ReissueUserAccount] = []
        for entry in user {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--user takes 利用者ID=U-…, not \(entry).") }
            _ = try registration.user(UserID(rawValue: parts[1]))
            users.append(
                ReissueUserAccount(
                    loginID: parts[0], userID: UserID(rawValue: parts[1]),
                    passwords: try PasswordPair(
                        password: try options.password("\(parts[0]) 利用者暗証番号: "),
                        confirmation: try options.password("\(parts[0]) 利用者確認暗証番号: "))))
        }
        let account = ReissueAccount(
            contractID: try ContractID(contract), businessID: registration.id, administrator: adminID,
            administratorPasswords: passwords, users: users)
        try await JSONReissueAccountStore(path: options.accounts).save(account)
        print("契約者ID \(account.contractID): \(registration.business.name), \(users.count) user(s)")
    }
}

/// `portal reissue request`: the administrator's side.
struct ReissueRequest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "管理者ログオン, then 利用者電子証明書の再発行: revoke the user's certificate and issue a one-time code.",
        discussion: """
            With --pin-stdin and --password-stdin: the administrator certificate's PIN or file password first, then \
            ご契約先暗証番号 and ご契約先確認暗証番号, one per line.
            """)
    @OptionGroup var storage: StoreOptions
    @OptionGroup var options: ReissueOptions
    @OptionGroup var source: CertificateSource
    @OptionGroup var confirm: ConfirmOption
    @Option(help: "契約者ID: 11 digits.") var contract: String
    @Option(name: .customLong("user"), help: "利用者ID of the user whose certificate is reissued.") var loginID: String

    func run() async throws {
        let desk = try options.desk(service: try await storage.service())
        let flow = CertificateReissue(desk: desk)
        let answer = try await source.answer(try await flow.challenge())
        try await flow.logOn(
            contractID: contract, evidence: answer, password: try options.password("ご契約先暗証番号: "),
            confirmation: try options.password("ご契約先確認暗証番号: "))
        try await flow.choose(loginID: loginID)
        guard case .confirm(let confirmation) = await flow.step else { return }
        print(ReissueConfirmation.title)
        print(TerminalText.table(confirmation.rows.map { [$0.label, $0.value] }))
        guard try confirm.yes || Ask.yesNo("再発行しますか？ 再発行する場合は y、戻る場合は n") else {
            try await flow.back()
            print("戻る: nothing was changed.")
            throw Declined()
        }
        let receipt = try await flow.reissue()
        print(
            TerminalText.table([
                ["契約者ID", receipt.contractID.digits], ["利用者ID", receipt.loginID],
                ["取得コード", receipt.enrollmentCode], ["取得期限", CertificateSummary.japanDate(receipt.expiresAt)],
            ]))
        print("利用者のパソコンから「電子証明書取得」を行ってください。")
    }
}

/// `portal reissue enroll`: the user's side on the new computer.
struct ReissueEnroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "電子証明書取得: make a key here, obtain the one-year certificate and write it as a .p12 file.",
        discussion: """
            With --password-stdin: 利用者暗証番号, 利用者確認暗証番号, then the new file's password, one per line.
            """)
    @OptionGroup var storage: StoreOptions
    @OptionGroup var options: ReissueOptions
    @OptionGroup var confirm: ConfirmOption
    @Option(help: "契約者ID: 11 digits.") var contract: String
    @Option(name: .customLong("user"), help: "利用者ID.") var loginID: String
    @Option(help: "The one-time code the administrator received.") var code: String
    @Option(help: "Where to write the PKCS#12 file.") var out: String

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: out) else {
            throw ValidationError("\(out) exists already; choose another --out.")
        }
        let flow = CertificateEnrollment(desk: try options.desk(service: try await storage.service()))
        try await flow.signIn(
            contractID: contract, loginID: loginID, password: try options.password("利用者暗証番号: "),
            confirmation: try options.password("利用者確認暗証番号: "), code: code)
        guard case .confirm(let pending) = await flow.step else { return }
        print(
            TerminalText.table([
                ["契約者ID", pending.contractID.digits], ["利用者ID", pending.loginID], ["氏名", pending.userName],
                ["商号又は名称", pending.businessName],
                [
                    "有効期間",
                    "\(CertificateSummary.japanDate(pending.notValidBefore)) – \(CertificateSummary.japanDate(pending.notValidAfter))",
                ],
            ]))
        let filePassword = try options.password("Password of the new file \(out): ")
        guard try confirm.yes || Ask.yesNo("電子証明書を取得しますか？") else {
            try await flow.back()
            print("戻る: the code was not used.")
            throw Declined()
        }
        let enrolled = try await flow.obtain(filePassword: filePassword)
        let url = URL(fileURLWithPath: out)
        try Data(enrolled.pkcs12).write(to: url, options: .withoutOverwriting)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: out)
        print(EnrolledCertificate.notice)
        print(
            TerminalText.table(CertificateSummary(enrolled.certificate).labeledFields.map { [$0.label, $0.value] }))
    }
}

/// `portal reissue ca-root`: prints the reference CA's root certificate (PEM), to trust elsewhere.
struct ReissueCARoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca-root", abstract: "Print the reference certification authority's root certificate (PEM).")
    @OptionGroup var options: ReissueOptions

    func run() async throws {
        print(try FolderReissueAuthority(folder: options.ca).root.serializeAsPEM().pemString)
    }
}
