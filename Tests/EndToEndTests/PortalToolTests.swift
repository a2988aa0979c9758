import CardSimulator
import Foundation
import Synchronization
import Testing

extension EndToEnd {
    /// The `portal` example as a person runs it: a SQLite file, IC cards served through pcscd, PINs on standard
    /// input, and the outbox delivered to a real SMTP server and the GEPS reference server on loopback.
    @Suite("The portal tool through pcscd")
    struct PortalToolTests {
        static let slot = 0
        static let company = "株式会社試験建設"

        final class Workspace: Sendable {
            let directory: URL
            let authority: TestCertificateAuthority
            var database: String { directory.appending(path: "portal.sqlite").path }
            var trust: String { directory.appending(path: "root.pem").path }

            init() throws {
                directory = FileManager.default.temporaryDirectory.appending(path: "portal-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                authority = try TestCertificateAuthority(directory: directory.appending(path: "ca"))
                try authority.rootCertificatePEM(.eBidding).write(toFile: trust, atomically: true, encoding: .utf8)
            }

            func card(holder name: String, company: String = PortalToolTests.company, pin: String = "1234")
                throws -> PrivateCAICCard
            {
                var holder = EBiddingHolder.example
                holder.companyName = company
                holder.name = name
                return try PrivateCAICCard.issue(by: authority, holder: holder, pin: pin, maximumTries: 5)
            }

            func portal(_ arguments: [String], input: String? = nil) async throws -> Tools.Result {
                try await Tools.run("portal", arguments + ["--db", database], input: input)
            }

            deinit { try? FileManager.default.removeItem(at: directory) }
        }

        static let registerArguments = [
            "register", "--company", company, "--company-postal-code", "100-0013",
            "--company-address", "東京都千代田区霞が関1-1-1", "--representative-title", "代表取締役",
            "--representative-name", "入札 太郎", "--corporate-number", "4011001098993", "--company-phone",
            "03-1234-5678", "--title", "代表取締役", "--name", "入札 太郎", "--postal-code", "1000013", "--address",
            "東京都千代田区霞が関1-1-1", "--phone", "03-1234-5678", "--mail", "taro@example.co.jp", "--card", "--yes",
        ]

        static func userID(in output: String, name: String) -> String? {
            output.split(separator: "\n").first { $0.contains(name) }?.split(separator: " ").first {
                $0.hasPrefix("U-")
            }.map(String.init)
        }

        @Test("register with a card, log in with it; a wrong PIN is refused with the tries left")
        func registerAndLogin() async throws {
            let workspace = try Workspace()
            let card = try workspace.card(holder: "入札 太郎")
            try await TestBench.withCard(card, slot: Self.slot) { _, _, reader in
                let registered = try await workspace.portal(Self.registerArguments + ["--reader", reader])
                #expect(registered.status == 0, "\(registered.error)")
                #expect(registered.output.contains("【新規登録確認】"))
                #expect(registered.output.contains("証明書シリアル番号"))
                #expect(registered.output.contains("受付番号"))

                let login = try await workspace.portal(
                    ["login", "--card", "--reader", reader, "--pin-stdin", "--trust", workspace.trust], input: "1234\n")
                #expect(login.status == 0, "\(login.error)")
                #expect(login.output.contains("ログインしました: \(Self.company)  入札 太郎（代表者）"))

                let wrong = try await workspace.portal(
                    ["login", "--card", "--reader", reader, "--pin-stdin", "--trust", workspace.trust], input: "9999\n")
                #expect(wrong.status == 1)
                #expect(wrong.error.contains("4 tries are left"))
                #expect(!wrong.error.contains("9999") && !wrong.output.contains("9999"), "the PIN is never printed")
            }
        }

        @Test("an agent added with its card may change its own record but not the business; the rights decide")
        func agentRights() async throws {
            let workspace = try Workspace()
            let representativeCard = try workspace.card(holder: "入札 太郎")
            let agentCard = try workspace.card(holder: "代理 花子")
            let otherCompanyCard = try workspace.card(holder: "別社 次郎", company: "株式会社ほかの会社")
            var representative = ""
            try await TestBench.withCard(representativeCard, slot: Self.slot) { _, _, reader in
                let registered = try await workspace.portal(Self.registerArguments + ["--reader", reader])
                #expect(registered.status == 0, "\(registered.error)")
            }
            let list = try await workspace.portal(["list"])
            representative = try #require(Self.userID(in: list.output, name: "入札 太郎"))
            let agentFields = [
                "--title", "営業部長", "--name", "代理 花子", "--postal-code", "100-0013", "--address", "東京都千代田区",
                "--phone", "03-1234-0000", "--mail", "hanako@example.co.jp", "--yes",
            ]
            try await TestBench.withCard(otherCompanyCard, slot: Self.slot) { _, _, reader in
                let refused = try await workspace.portal(
                    ["agent", "add", "--as", representative, "--card", "--reader", reader] + agentFields)
                #expect(refused.status == 1)
                #expect(refused.error.contains("株式会社ほかの会社") && refused.error.contains(Self.company))
            }
            try await TestBench.withCard(agentCard, slot: Self.slot) { _, _, reader in
                let added = try await workspace.portal(
                    ["agent", "add", "--as", representative, "--card", "--reader", reader] + agentFields)
                #expect(added.status == 0, "\(added.error)")
                #expect(added.output.contains("【代理人登録確認】"))
            }
            let agent = try #require(Self.userID(in: try await workspace.portal(["list"]).output, name: "代理 花子"))

            let business = try await workspace.portal([
                "update", "business", "--as", agent, "--company-phone", "03-9999-0000", "--yes",
            ])
            #expect(business.status == 1)
            #expect(business.error.contains("事業者基本情報"))
            let other = try await workspace.portal(
                ["update", "user", "--as", agent, "--user", representative, "--mail", "x@example.co.jp", "--yes"])
            #expect(other.status == 1)
            #expect(other.error.contains("own record"))
            let own = try await workspace.portal([
                "update", "user", "--as", agent, "--mail", "h2@example.co.jp", "--yes",
            ])
            #expect(own.status == 0, "\(own.error)")
            #expect(own.output.contains("* メールアドレス  hanako@example.co.jp"))
            let shown = try await workspace.portal(["show", agent])
            #expect(shown.output.contains("h2@example.co.jp"))
            #expect(shown.output.contains("利用者基本情報変更"))
        }

        @Test("portal renew ic-card with one PIN try left: refused without --allow-last-try, sent with it")
        func renewLastTry() async throws {
            let workspace = try Workspace()
            var holder = EBiddingHolder.example
            holder.companyName = Self.company
            holder.name = "入札 太郎"
            let current = try PrivateCAICCard.issue(
                by: workspace.authority, holder: holder, pin: "1234", maximumTries: 1)
            try await TestBench.withCard(current, slot: Self.slot) { _, _, reader in
                let registered = try await workspace.portal(Self.registerArguments + ["--reader", reader])
                #expect(registered.status == 0, "\(registered.error)")
                let arguments = [
                    "renew", "ic-card", "--reader", reader, "--trust", workspace.trust, "--pin-stdin", "--yes",
                    "--wait",
                    "2",
                ]
                let refused = try await workspace.portal(arguments, input: "1234\n")
                #expect(refused.status == 1)
                #expect(refused.error.contains("Only one try is left"), "\(refused.error)")
                #expect(refused.error.contains("with --allow-last-try"), "the refusal names the option")
                // With the flag the PIN goes to the card; the renewal then waits for the new card, which never comes.
                let sent = try await workspace.portal(arguments + ["--allow-last-try"], input: "1234\n")
                #expect(sent.output.contains("【新しいICカードの確認】"), "\(sent.output) \(sent.error)")
                #expect(sent.status == 1)
                #expect(!sent.error.contains("Only one try is left"))
            }
        }

        @Test("portal renew ic-card: the swap in one reader, the confirmation screen, the old card refused after")
        func renewICCard() async throws {
            let workspace = try Workspace()
            let current = SignatureWatcher(try workspace.card(holder: "入札 太郎", pin: "1234"))
            let new = try workspace.card(holder: "入札 太郎", pin: "5678")
            try await TestBench.withCard(current, slot: Self.slot) { server, context, reader in
                let registered = try await workspace.portal(Self.registerArguments + ["--reader", reader])
                #expect(registered.status == 0, "\(registered.error)")
                async let renewal = workspace.portal(
                    [
                        "renew", "ic-card", "--reader", reader, "--trust", workspace.trust, "--pin-stdin", "--yes",
                        "--wait", "30",
                    ], input: "1234\n5678\n")
                // The person swaps the cards once the current card signed (its PIN accepted, its key proved).
                let deadline = ContinuousClock.now + .seconds(30)
                while !current.hasSigned && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(current.hasSigned)
                // A person takes a moment: the tool asks for the swap only after the PIN step is done.
                try await Task.sleep(for: .seconds(2))
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(new)
                let result = try await renewal
                #expect(result.status == 0, "\(result.error)")
                #expect(result.output.contains("【電子証明書更新確認】"))
                #expect(result.output.contains("ICカード取得者氏名"))
                #expect(result.output.contains("電子証明書の更新が完了いたしました。"))
                #expect(!result.output.contains("1234") && !result.output.contains("5678"))

                let accepted = try await workspace.portal(
                    ["login", "--card", "--reader", reader, "--pin-stdin", "--trust", workspace.trust], input: "5678\n")
                #expect(accepted.status == 0, "\(accepted.error)")
                await server.remove()
                try await TestBench.waitUntil(context: context, reader: reader, present: false)
                try await server.insert(current)
                try await TestBench.waitUntil(context: context, reader: reader, present: true)
                let refused = try await workspace.portal(
                    ["login", "--card", "--reader", reader, "--pin-stdin", "--trust", workspace.trust], input: "1234\n")
                #expect(refused.status == 1)
                #expect(refused.error.contains("更新済み"))
            }
        }
    }
}

/// A virtual card that notes when it answered a signature (PERFORM SECURITY OPERATION) with success.
final class SignatureWatcher: VirtualCard {
    let card: any VirtualCard
    private let signed = Mutex(false)
    init(_ card: any VirtualCard) { self.card = card }
    var hasSigned: Bool { signed.withLock { $0 } }
    var atr: [UInt8] { card.atr }
    func handle(_ event: CardPowerEvent) { card.handle(event) }
    func respond(to command: [UInt8]) -> [UInt8] {
        let response = card.respond(to: command)
        if command.count > 1, command[1] == 0x2A, response.suffix(2) == [0x90, 0x00] { signed.withLock { $0 = true } }
        return response
    }
}
