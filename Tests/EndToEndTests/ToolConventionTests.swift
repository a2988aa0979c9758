import CardSimulator
import Foundation
import ISO7816
import PCSC
import Testing

/// What every tool shares, tried as a person (or a script) runs the tools: the exit statuses, `--version`,
/// `--help`, the messages, `--log-level`, and the prompts in a terminal.
@Suite("The tools' shared conventions")
struct ToolConventionTests {
    static let tools = ["cardtool", "card-simulator", "jpki", "portal"]

    @Test("--version: every tool, and every subcommand, prints the one version and exits 0")
    func version() async throws {
        for tool in Self.tools {
            let result = try await Tools.run(tool, ["--version"])
            #expect(result.status == 0, "\(tool): \(result.error)")
            #expect(result.output == "0.2.0-dev\n", "\(tool): \(result.output)")
        }
        let sub = try await Tools.run("portal", ["list", "--version"])
        #expect(sub.output == "0.2.0-dev\n")
    }

    @Test("--help states the exit statuses, the common options and (portal) the environment")
    func help() async throws {
        for tool in Self.tools {
            let result = try await Tools.run(tool, ["--help"])
            #expect(result.status == 0)
            for text in [
                "Exit status (the same in every tool)", "64   usage error", "3    declined", "--log-level", "--trace",
            ] {
                #expect(result.output.contains(text), "\(tool) --help lacks \(text)")
            }
        }
        // The servers print their help too (it was silent: a help request parsed as a command of its own was dropped).
        for server in ["portal-server", "card-agent"] {
            let result = try await Tools.run(server, ["--help"])
            #expect(result.status == 0, "\(server): \(result.error)")
            #expect(result.output.contains("USAGE: \(server)"), "\(server) --help printed: \(result.output)")
        }
        let portal = try await Tools.run("portal", ["--help"])
        #expect(portal.output.contains("PORTAL_NAME") && portal.output.contains("PORTAL_MAIL_FROM"))
        for (tool, command) in [
            ("portal", ["list"]), ("portal", ["show"]), ("portal", ["outbox", "list"]), ("jpki", ["certs"]),
            ("jpki", ["pin-status"]), ("jpki", ["text-info"]), ("cardtool", ["readers"]),
        ] {
            let result = try await Tools.run(tool, command + ["--help"])
            #expect(result.output.contains("--json"), "\(tool) \(command) --help lacks --json")
            #expect(result.output.contains("With --json, one document"), "\(tool) \(command): the JSON is documented")
        }
    }

    @Test("usage errors exit 64 in every tool: an unknown option, bad hex, a log level that is none")
    func usageErrors() async throws {
        for tool in Self.tools {
            let result = try await Tools.run(tool, ["--no-such-option"])
            #expect(result.status == 64, "\(tool): \(result.status)")
        }
        let badHex = try await Tools.run("cardtool", ["send", "--reader", "0", "00 A4 ZZ 00"])
        #expect(badHex.status == 64, "\(badHex.error)")
        #expect(badHex.error.contains("APDU 1") && badHex.error.contains("hex"))
        let short = try await Tools.run("cardtool", ["send", "--reader", "0", "00A404"])
        #expect(short.status == 64)
        let atr = try await Tools.run("cardtool", ["atr", "3B E0 00"])
        #expect(atr.status == 64)
        #expect(atr.error.contains("ATR"))
        let level = try await Tools.run("jpki", ["--log-level", "loud", "pin-status"])
        #expect(level.status == 64)
        #expect(level.error.contains("--log-level loud is not a level"))
        let accepted = try await Tools.run("portal", ["list", "--log-level", "debug", "--db", "/nonexistent/x.sqlite"])
        #expect(accepted.status == 2, "--log-level is taken anywhere on the line: \(accepted.error)")
    }

    @Test("a file that is not there is said as such, not as an NSCocoaErrorDomain dump")
    func missingFile() async throws {
        let result = try await Tools.run(
            "jpki",
            ["verify", "/nonexistent/contract.pdf", "/nonexistent/contract.p7s", "--trust", "/nonexistent/ca.pem"])
        #expect(result.status == 2)
        #expect(result.error.contains("cannot read /nonexistent/contract.pdf: no such file."), "\(result.error)")
        #expect(!result.error.contains("NSCocoaErrorDomain"))
    }

    @Test(
        "jpki verify: an RSA-PSS signature is said to be unsupported; an untrusted signer's sentence says it once",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func signatureMessages() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "pss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String) -> String { directory.appending(path: name).path }
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        for (name, subject) in [("signer", "/CN=PSS Test"), ("other", "/CN=Other CA")] {
            let made = try await Tools.run(
                executable: openssl,
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("\(name).key"), "-out",
                    file("\(name).pem"), "-subj", subject, "-days", "30",
                ])
            try #require(made.status == 0, "\(made.error)")
        }
        try "入札書\n".write(toFile: file("bid.txt"), atomically: true, encoding: .utf8)
        for (out, options) in [("pss.p7s", ["-keyopt", "rsa_padding_mode:pss"]), ("pkcs1.p7s", [])] {
            let signed = try await Tools.run(
                executable: openssl,
                [
                    "cms", "-sign", "-binary", "-in", file("bid.txt"), "-signer", file("signer.pem"), "-inkey",
                    file("signer.key"), "-outform", "DER", "-out", file(out),
                ] + options)
            try #require(signed.status == 0, "\(signed.error)")
        }
        let pss = try await Tools.run(
            "jpki", ["verify", file("bid.txt"), file("pss.p7s"), "--trust", file("signer.pem")])
        #expect(pss.status == 2)
        #expect(pss.error.contains("RSASSA-PSS") && pss.error.contains("not supported"), "\(pss.error)")
        #expect(!pss.error.contains("whole file was copied"))
        let untrusted = try await Tools.run(
            "jpki", ["verify", file("bid.txt"), file("pkcs1.p7s"), "--trust", file("other.pem")])
        #expect(untrusted.status == 1)
        #expect(untrusted.error.contains("does not chain to a trusted root"), "\(untrusted.error)")
        #expect(!untrusted.error.contains("no chain leads") && !untrusted.error.contains("Certificate(version"))
    }

    @Test("revoke-request: a 失効理由 that is none is a usage error before anything else, with the list in Japanese")
    func revocationReasonChecked() async throws {
        let bad = try await Tools.run(
            "portal", ["revoke-request", "--ca-dir", "/nonexistent", "--reason", "不明", "--db", "/nonexistent/x"])
        #expect(bad.status == 64)
        #expect(bad.error.contains("1=紛失") && bad.error.contains("2=盗難"), "\(bad.error)")
        // Japanese, a number and the English name are all accepted: the command goes on (and stops at the store).
        for reason in ["紛失", "2", "keyCompromise", "秘密鍵の危殆化"] {
            let good = try await Tools.run(
                "portal", ["revoke-request", "--ca-dir", "/nonexistent", "--reason", reason, "--db", "/nonexistent/x"])
            #expect(good.status == 2, "\(reason): \(good.error)")
        }
        let help = try await Tools.run("portal", ["revoke-request", "--help"])
        #expect(help.output.contains("紛失") && help.output.contains("部署名") && help.output.contains("備考"))
    }
}

/// The portal's prompts in a pseudo-terminal, and its JSON.
@Suite("portal in a terminal")
struct PortalTerminalTests {
    final class Workspace: Sendable {
        let directory: URL
        let certificate: String
        var database: String { directory.appending(path: "portal.sqlite").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appending(path: "portal-tty-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let authority = try TestCertificateAuthority(directory: directory.appending(path: "ca"))
            var holder = EBiddingHolder.example
            holder.companyName = "株式会社試験建設"
            holder.name = "入札 太郎"
            let card = try PrivateCAICCard.issue(by: authority, holder: holder, pin: "1234", maximumTries: 5)
            let base64 = Data(card.snapshot.holderCertificate).base64EncodedString(options: .lineLength64Characters)
            certificate = directory.appending(path: "holder.pem").path
            try "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n".write(
                toFile: certificate, atomically: true, encoding: .utf8)
        }

        var register: [String] {
            [
                "register", "--company", "株式会社試験建設", "--company-postal-code", "100-0013",
                "--company-address", "東京都千代田区霞が関1-1-1", "--representative-title", "代表取締役",
                "--representative-name", "入札 太郎", "--corporate-number", "4011001098993", "--company-phone",
                "03-1234-5678", "--title", "代表取締役", "--name", "入札 太郎", "--postal-code", "1000013",
                "--address", "東京都千代田区霞が関1-1-1", "--phone", "03-1234-5678", "--mail", "taro@example.co.jp",
                "--pem", certificate, "--db", database,
            ]
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    static let question = "この内容で登録しますか？ 登録する場合は y、戻る場合は n [y/N]: "

    @Test("register declined with n: exit 3, 戻る, and no identifiers that were never made")
    func declined() async throws {
        let workspace = try Workspace()
        let result = try await PseudoTerminal.run(
            "portal", workspace.register, steps: [.init(expect: Self.question, send: "n\n")])
        #expect(!result.timedOut, "\(result.screen)")
        #expect(result.status == 3, "\(result.screen)")
        #expect(result.screen.contains("戻る: 何も変更していません。"))
        #expect(!result.screen.contains("事業者 B-") && !result.screen.contains("代表者 U-"))
        let list = try await Tools.run("portal", ["list", "--db", workspace.database])
        #expect(list.output.contains("登録されている事業者はありません"))
    }

    @Test("an empty answer takes the default the prompt shows ([y/N]: no); a wrong answer is asked again")
    func emptyAnswerAndReAsk() async throws {
        let workspace = try Workspace()
        let empty = try await PseudoTerminal.run(
            "portal", workspace.register, steps: [.init(expect: Self.question, send: "\n")])
        #expect(empty.status == 3, "\(empty.screen)")
        let again = try await PseudoTerminal.run(
            "portal", workspace.register,
            steps: [
                .init(expect: Self.question, send: "maybe\n"),
                .init(expect: "y（はい）か n（いいえ）で答えてください。", send: "はい\n"),
            ])
        #expect(again.status == 0, "\(again.screen)")
        #expect(again.screen.contains("事業者 B-") && again.screen.contains("代表者 U-"))
    }

    @Test("Ctrl-C at a prompt: exit 130, the terminal left on a fresh line")
    func interrupt() async throws {
        let workspace = try Workspace()
        let result = try await PseudoTerminal.run(
            "portal", workspace.register, steps: [.init(expect: Self.question, send: "\u{03}")])
        #expect(result.status == 130, "\(result.screen)")
        #expect(result.screen.unicodeScalars.last == "\n", "\(result.screen.debugDescription)")
        #expect(!result.screen.contains("事業者 B-"))
    }

    @Test("list, show and outbox list --json: the documented keys, sorted, ISO 8601 dates")
    func json() async throws {
        let workspace = try Workspace()
        let registered = try await Tools.run("portal", workspace.register + ["--yes"])
        #expect(registered.status == 0, "\(registered.error)")

        let list = try await Tools.run("portal", ["list", "--json", "--db", workspace.database])
        #expect(list.status == 0, "\(list.error)")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [String: Any])
        #expect(listed.keys.sorted() == ["businesses", "nextAfter"])
        let businesses = try #require(listed["businesses"] as? [[String: Any]])
        let business = try #require(businesses.first)
        #expect(business["name"] as? String == "株式会社試験建設")
        let id = try #require(business["id"] as? String)
        let users = try #require(business["users"] as? [[String: Any]])
        #expect(users.first?.keys.sorted() == ["id", "name", "role", "status"])
        #expect(users.first?["role"] as? String == "representative")
        #expect(
            list.output.range(of: #""businesses" : \[[\s\S]*"nextAfter" : null"#, options: .regularExpression) != nil)

        let show = try await Tools.run("portal", ["show", id, "--json", "--db", workspace.database])
        #expect(show.status == 0, "\(show.error)")
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(show.output.utf8)) as? [String: Any])
        #expect(
            shown.keys.sorted() == ["business", "history", "id", "qualifications", "registeredAt", "users", "version"])
        let certificates = try #require(
            (shown["users"] as? [[String: Any]])?.first?["certificates"] as? [[String: Any]])
        #expect(certificates.first?["kind"] as? String == "fileCertificate")
        let expiry = try #require(certificates.first?["notValidAfter"] as? String)
        #expect(ISO8601DateFormatter().date(from: expiry) != nil, "\(expiry)")

        let outbox = try await Tools.run("portal", ["outbox", "list", "--json", "--db", workspace.database])
        #expect(outbox.status == 0, "\(outbox.error)")
        let messages = try #require(
            (try JSONSerialization.jsonObject(with: Data(outbox.output.utf8)) as? [String: Any])?["messages"]
                as? [[String: Any]])
        #expect(messages.map { $0["kind"] as? String } == ["gepsHandOver", "mail"])
        #expect(messages.first?["lastError"] is NSNull, "absent values are null, not left out")
    }
}

extension EndToEnd {
    /// Readers as people name them, JSON and --trace, through pcscd.
    @Suite("The tools with readers")
    struct ToolReaderTests {
        @Test("cardtool readers --json; --reader by number, by part of the name; an ambiguous part is refused")
        func readers() async throws {
            let card = MinimalCard()
            try await TestBench.withCard(card, slot: 0) { _, _, reader in
                let result = try await Tools.run("cardtool", ["readers", "--json"])
                #expect(result.status == 0, "\(result.error)")
                let document = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                let readers = try #require(document["readers"] as? [[String: Any]])
                let entry = try #require(readers.first { $0["name"] as? String == reader })
                #expect(entry["cardPresent"] as? Bool == true)
                #expect(entry["atr"] as? String == "3B81810180" + "81")
                let index = try #require(entry["index"] as? Int)
                #expect(readers.contains { $0["cardPresent"] as? Bool == false && $0["atr"] is NSNull })

                let byNumber = try await Tools.run(
                    "cardtool", ["send", "--reader", "\(index)", "80 30 00 00 02 CA FE"])
                #expect(byNumber.status == 0, "\(byNumber.error)")
                #expect(byNumber.output.contains("< CA FE"))
                let part = String(reader.suffix(5))  // "00 00"
                let byPart = try await Tools.run("cardtool", ["send", "--reader", part, "80 30 00 00 01 AA"])
                #expect(byPart.status == 0, "\(byPart.error)")
                let ambiguous = try await Tools.run(
                    "cardtool", ["send", "--reader", "virtual pcd", "80 30 00 00 01 AA"])
                #expect(ambiguous.status == 64)
                #expect(ambiguous.error.contains("matches several readers") && ambiguous.error.contains(reader))
                let none = try await Tools.run("cardtool", ["send", "--reader", "99", "80 30 00 00 01 AA"])
                #expect(none.status == 64)
                #expect(none.error.contains("There is no reader 99"))
            }
        }

        @Test("--trace logs the APDUs on standard error with the PIN masked")
        func trace() async throws {
            try await TestBench.withCard(MinimalCard(), slot: 0) { _, _, _ in
                let result = try await Tools.run(
                    "cardtool", ["send", "--trace", "80 30 00 00 02 CA FE", "00 20 00 80 04 31 32 33 34"])
                #expect(result.error.contains("APDU"), "\(result.error)")
                #expect(result.error.contains("80 30 00 00 02 CA FE"))
                #expect(result.error.contains("00 20 00 80 <redacted>"))
                #expect(!result.error.contains("31 32 33 34"))
                let quiet = try await Tools.run("cardtool", ["send", "80 30 00 00 02 CA FE"])
                #expect(!quiet.error.contains("APDU"))
            }
        }

        @Test("jpki picks the reader that holds the My Number card when another reader holds another card")
        func jpkiFindsTheMyNumberCard() async throws {
            let bench = try JPKIBench.get()
            try await TestBench.withCard(MinimalCard(), slot: 0) { _, _, _ in
                try await TestBench.withCard(try bench.card(), slot: 1) { _, _, _ in
                    let result = try await Tools.run("jpki", ["pin-status", "--json"])
                    #expect(result.status == 0, "\(result.error)")
                    let document = try #require(
                        try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
                    let pins = try #require(document["pins"] as? [[String: Any]])
                    #expect(pins.map { $0["pin"] as? String } == ["auth", "sign", "text"])
                    #expect(pins.allSatisfy { $0["state"] as? String == "triesLeft" && $0["triesLeft"] is Int })
                }
            }
        }

        @Test("jpki certs and text-info --json")
        func jpkiJSON() async throws {
            let bench = try JPKIBench.get()
            try await TestBench.withCard(try bench.card(), slot: 0) { _, _, _ in
                let certs = try await Tools.run("jpki", ["certs", "--json", "--reader", "0"])
                #expect(certs.status == 0, "\(certs.error)")
                let document = try #require(
                    try JSONSerialization.jsonObject(with: Data(certs.output.utf8)) as? [String: Any])
                let entries = try #require(document["certificates"] as? [[String: Any]])
                #expect(entries.map { $0["type"] as? String } == ["auth", "auth-ca", "sign-ca"])
                #expect(
                    entries.first?.keys.sorted()
                        == [
                            "holder", "issuer", "notValidAfter", "notValidBefore", "pem", "serialNumber", "subject",
                            "type",
                        ])
                #expect(entries.last?["holder"] is NSNull)

                let text = try await Tools.run(
                    "jpki", ["text-info", "--json", "--pin-stdin"], input: JPKIBench.textInputSupportPIN + "\n")
                #expect(text.status == 0, "\(text.error)")
                let info = try #require(
                    try JSONSerialization.jsonObject(with: Data(text.output.utf8)) as? [String: Any])
                #expect(info.keys.sorted() == ["address", "dateOfBirth", "individualNumber", "name", "sex"])
                #expect((info["dateOfBirth"] as? String)?.count == 10)
            }
        }

        @Test(
            "revoke-request in a terminal: OK waits for Enter, 失効理由 shown in Japanese, a wrong answer asked again after the PIN, 部署名 and 備考 asked"
        )
        func revocationPrompts() async throws {
            let workspace = try PortalToolTests.Workspace()
            let card = try workspace.card(holder: "入札 太郎")
            try await TestBench.withCard(card, slot: 0) { _, _, reader in
                let registered = try await workspace.portal(PortalToolTests.registerArguments + ["--reader", reader])
                #expect(registered.status == 0, "\(registered.error)")
                let result = try await PseudoTerminal.run(
                    "portal",
                    [
                        "revoke-request", "--db", workspace.database, "--ca-dir", workspace.directory.path,
                        "--reader", "00 00", "--agree-terms", "--checked", "--name", "入札 太郎", "--phone",
                        "03-1234-5678", "--mail", "taro@example.co.jp", "--wait", "10",
                    ],
                    steps: [
                        .init(expect: "Enter で次へ進みます", send: "\n"),
                        .init(expect: "PIN(暗証番号): ", send: "1234\n"),
                        .init(expect: "失効理由（番号または名称）: ", send: "不明\n"),
                        .init(expect: "「不明」は選べません", send: ""),
                        .init(expect: "失効理由（番号または名称）: ", send: "紛失\n"),
                        .init(expect: "部署名（任意）: ", send: "総務部\n"),
                        .init(expect: "備考（任意）: ", send: "\n"),
                    ])
                #expect(result.status == 0, "\(result.screen)")
                #expect(result.screen.contains("1. 紛失") && result.screen.contains("2. 盗難"))
                #expect(result.screen.contains("最大 10 秒待ちます"))
                #expect(result.screen.contains("【失効申込受付】"), "\(result.screen)")
                #expect(!result.screen.contains("1234\r\n"), "the PIN is not echoed")
            }
        }

        @Test("card-simulator says on standard error which reader it serves and how to stop it")
        func simulatorSpeaks() async throws {
            let executable = try #require(SimulatorExecutable.path)
            let state = FileManager.default.temporaryDirectory.appending(path: "e2e-speak-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: state) }
            let reader = try await TestBench.readerName(slot: 1)
            let context = try PCSCContext()
            let running = try SimulatorExecutable.start(
                executable, ["ic-card", "--slot", "1", "--state", state.path, "--pin", "AOSIGN-1"])
            try await TestBench.waitUntil(context: context, reader: reader, present: true)
            running.process.interrupt()  // Ctrl-C
            let (status, output) = try await SimulatorExecutable.finish(running)
            #expect(status == 0)
            #expect(output.contains("serving the card in vpcd slot 1") && output.contains("\"Virtual PCD 00 01\""))
            #expect(output.contains("Stop with Ctrl-C"))
            try await TestBench.waitUntil(context: context, reader: reader, present: false)
        }
    }
}
