import CardSimulator
import CertificateRenewal
import Foundation
import Registration
import Synchronization
import Testing
import X509

extension EndToEnd {
    /// `portal poa renew` and `portal agent delete` as a person runs them, through pcscd: the agent's My Number card
    /// served into a vpcd reader, PINs on standard input (or typed at a terminal), the SQLite file checked after.
    @Suite("The portal's poa renew and agent delete through pcscd")
    struct PortalPowerOfAttorneyToolTests {
        static let slot = 0

        @Test("poa renew: a wrong PIN exits 1 with the tries left; the right one shows 委任者/受任者/代理権 and renews")
        func renew() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let files = try portal.toolFiles()
            let before = try await portal.stored()
            try await TestBench.withCard(portal.agentCard, slot: Self.slot) { _, _, reader in
                let arguments = portal.renewArguments(files, reader: reader) + ["--pin-stdin", "--yes"]
                let wrong = try await Tools.run("portal", arguments, input: "WRONG999\n")
                #expect(wrong.status == 1, "\(wrong.error)")
                #expect(wrong.error.contains("4 tries are left"), "\(wrong.error)")
                #expect(!Terminal.mentions(wrong, "WRONG999"), "the PIN is never printed")
                #expect(try await portal.stored() == before)

                let renewed = try await Tools.run("portal", arguments, input: "\(ExpiredAgentPortal.signingPIN)\n")
                #expect(renewed.status == 0, "\(renewed.error)")
                for label in [
                    "【マイナンバーカード電子委任状失効】", PowerOfAttorneyExpiredNotice.message, "【マイナンバーカード電子委任状確認】",
                    "【委任者情報】", "委任者", "商号又は名称", "【受任者情報】", "受任者", "利用者氏名", "【代理権情報】", "代理権",
                    "有効期間", "電子委任状取扱事業者", "入札及び見積に関する件", "マイナンバーカード電子委任状の更新が完了しました。", "受付番号",
                ] {
                    #expect(renewed.output.contains(label), "\(label) missing from the output")
                }
                let secret = ExpiredAgentPortal.signingPIN
                #expect(!Terminal.mentions(renewed, secret), "the PIN is never printed")
                let stored = try await portal.stored()
                let current = try #require(stored.currentPowerOfAttorney(of: portal.agentID))
                #expect(current.reference == "POA-TOOL-1")
                #expect(current.provider == "テスト委任状サービス")
                #expect(stored.powersOfAttorney.filter(\.isSuperseded).map(\.reference) == ["POA-OLD-1"])
                #expect(try await portal.store.history(of: portal.businessID).last?.kind == "renewPowerOfAttorney")
                let mails = try await portal.store.outbox(state: .pending).filter { $0.kind == .mail }
                #expect(mails.contains { String(decoding: $0.payload, as: UTF8.self).contains("[重要]利用者更新完了通知") })

                // In force now: a second run is refused and changes nothing.
                let again = try await Tools.run("portal", arguments, input: "\(ExpiredAgentPortal.signingPIN)\n")
                #expect(again.status == 1)
                #expect(try await portal.stored() == stored)
            }
        }

        @Test(
            "agent delete: wrong PINs exit 1 with the tries left, the last try only when allowed; the screen, deleted")
        func delete() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let files = try portal.toolFiles()
            let before = try await portal.stored()
            try await TestBench.withCard(portal.agentCard, slot: Self.slot) { _, _, reader in
                let arguments = portal.deleteArguments(files, reader: reader) + ["--pin-stdin", "--yes"]
                // Without JPKI's pairing the card cannot be proved the agent's: said at once, not "try again later".
                let unlinked = try await Tools.run(
                    "portal", arguments.filter { $0 != "--jpki-linkage" && $0 != files.linkage }, input: "9999\n")
                #expect(unlinked.status != 0 && unlinked.status != 1, "a usage error, not a refusal")
                #expect(unlinked.error.contains("--jpki-linkage"), "\(unlinked.error)")
                let wrong = try await Tools.run("portal", arguments, input: "9999\n")
                #expect(wrong.status == 1, "\(wrong.error)")
                #expect(wrong.error.contains("2 tries are left"), "\(wrong.error)")
                #expect(!Terminal.mentions(wrong, "9999"), "the PIN is never printed")
                let second = try await Tools.run("portal", arguments, input: "9998\n")
                #expect(second.status == 1)
                #expect(second.error.contains("1 try is left"), "\(second.error)")
                // One try left of three: the PIN is not sent unless the person allows the last try.
                let secret = ExpiredAgentPortal.authenticationPIN
                let withheld = try await Tools.run("portal", arguments, input: "\(secret)\n")
                #expect(withheld.status == 1)
                #expect(withheld.error.contains("Only one try is left"), "\(withheld.error)")
                #expect(try await portal.stored() == before)

                let deleted = try await Tools.run("portal", arguments + ["--allow-last-try"], input: "\(secret)\n")
                #expect(deleted.status == 0, "\(deleted.error)")
                for label in [
                    "【マイナンバーカード電子委任状失効】", "【利用者情報削除確認(代理人・マイナンバーカード)】", "【利用者基本情報(利用者情報)】", "【電子証明書情報】", "【電子委任状情報】",
                    "証明書の種類", "マイナンバーカード", "※ 削除した利用者情報を元に戻すことはできません。", "利用者情報の削除が完了しました。",
                ] {
                    #expect(deleted.output.contains(label), "\(label) missing from the output")
                }
                #expect(!Terminal.mentions(deleted, secret), "the PIN is never printed")
                let stored = try await portal.stored()
                #expect(try stored.user(portal.agentID).status == .deleted)
                #expect(stored.bindings(of: portal.agentID).allSatisfy { $0.recordedStatus == .removed })

                // Irreversible: the command refuses the deleted agent.
                let again = try await Tools.run("portal", arguments, input: "\(secret)\n")
                #expect(again.status == 1)
                #expect(try await portal.stored() == stored)
            }
        }

        @Test(
            "n at a terminal's confirmation (戻る) changes nothing and exits 3; with no terminal and no --yes nothing changes either"
        )
        func declined() async throws {
            let portal = try await ExpiredAgentPortal()
            defer { portal.remove() }
            let files = try portal.toolFiles()
            let before = try await portal.stored()
            let outboxBefore = try await portal.store.outbox(state: nil)
            try await TestBench.withCard(portal.agentCard, slot: Self.slot) { _, _, reader in
                // A person at a terminal: the PIN typed without echo, then n.
                let renew = try await Terminal.run(
                    portal.renewArguments(files, reader: reader),
                    answers: [("署名用電子証明書のパスワード: ", ExpiredAgentPortal.signingPIN), ("[y/N]: ", "n")])
                #expect(renew.status == 3, "declined (戻る) exits 3: \(renew.output)")
                #expect(renew.output.contains("【マイナンバーカード電子委任状確認】"))
                #expect(renew.output.contains("戻る: 何も変更していません。"))
                #expect(!Terminal.mentions(renew.output, ExpiredAgentPortal.signingPIN), "the PIN is not echoed")

                let delete = try await Terminal.run(
                    portal.deleteArguments(files, reader: reader),
                    answers: [
                        ("利用者証明用電子証明書のパスワード: ", ExpiredAgentPortal.authenticationPIN), ("[y/N]: ", "n"),
                    ]
                )
                #expect(delete.status == 3, "declined (戻る) exits 3: \(delete.output)")
                #expect(delete.output.contains("【利用者情報削除確認(代理人・マイナンバーカード)】"))
                #expect(delete.output.contains("戻る: 何も変更していません。"))
                #expect(
                    !Terminal.mentions(delete.output, ExpiredAgentPortal.authenticationPIN), "the PIN is not echoed")

                // No terminal to ask on (a script without --yes): refused before anything is stored.
                try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid"), "setsid (util-linux)")
                let detached = try await Tools.run(
                    executable: URL(fileURLWithPath: "/usr/bin/setsid"),
                    ["-w", Tools.binDirectory.appendingPathComponent("portal").path]
                        + portal.renewArguments(files, reader: reader) + ["--pin-stdin"],
                    input: "\(ExpiredAgentPortal.signingPIN)\n")
                #expect(detached.status != 0)
                #expect(detached.error.contains("--yes"), "\(detached.error)")
            }
            #expect(try await portal.stored() == before, "the registration is unchanged")
            #expect(try await portal.store.outbox(state: nil) == outboxBefore, "nothing handed to GEPS or mailed")
            #expect(try await portal.store.history(of: portal.businessID).count == 2)
        }
    }
}

/// The files the tool reads: the trust anchors, JPKI's pairing, and the provider's document.
struct PowerOfAttorneyToolFiles {
    var trust: String
    var linkage: String
    var document: String
}

extension ExpiredAgentPortal {
    /// Writes the trust anchors (PEM), the JPKI linkage (the agent card's certificates paired) and a year's power of
    /// attorney from the provider (JSON) into the portal's folder.
    func toolFiles() throws -> PowerOfAttorneyToolFiles {
        let trust = directory.appending(path: "trust.pem").path
        let pems = try [TestCertificateAuthority.Hierarchy.eBidding, .jpkiSigning, .jpkiAuthentication].map {
            try authority.rootCertificatePEM($0)
        }
        try pems.joined(separator: "\n").write(toFile: trust, atomically: true, encoding: .utf8)

        let signing = try Certificate(derEncoded: agentCard.snapshot.signingCertificate)
        let authentication = try Certificate(derEncoded: agentCard.snapshot.authenticationCertificate)
        let linkage = directory.appending(path: "jpki.json").path
        let pairs: [String: Any] = [
            "pairs": [
                [
                    "authentication": authentication.serialNumber.bytes.map { String(format: "%02X", $0) }.joined(),
                    "signingCertificate": try signing.serializeAsPEM().pemString,
                ]
            ]
        ]
        try JSONSerialization.data(withJSONObject: pairs).write(to: URL(fileURLWithPath: linkage))

        let now = Date()
        let dates = ISO8601DateFormatter()
        let document = directory.appending(path: "poa.json").path
        let issued: [String: Any] = [
            "principal": "\(Self.company) 代表取締役 入札 太郎", "agent": Self.agentName, "authority": Self.authority,
            "validFrom": dates.string(from: now.addingTimeInterval(-3600)),
            "validUntil": dates.string(from: now.addingTimeInterval(365 * Self.day)), "reference": "POA-TOOL-1",
        ]
        try JSONSerialization.data(withJSONObject: issued).write(to: URL(fileURLWithPath: document))
        return PowerOfAttorneyToolFiles(trust: trust, linkage: linkage, document: document)
    }

    /// `portal poa renew` for the agent, without the PIN and confirmation flags.
    func renewArguments(_ files: PowerOfAttorneyToolFiles, reader: String) -> [String] {
        [
            "poa", "renew", "--db", database, "--reader", reader, "--trust", files.trust, "--wait", "10", "--agent",
            agentID.rawValue, "--application-number", "APP-TOOL-1", "--provider", "テスト委任状サービス", "--document",
            files.document,
        ]
    }

    /// `portal agent delete` for the agent, without the PIN and confirmation flags.
    func deleteArguments(_ files: PowerOfAttorneyToolFiles, reader: String) -> [String] {
        [
            "agent", "delete", "--db", database, "--reader", reader, "--trust", files.trust, "--wait", "10", "--agent",
            agentID.rawValue, "--jpki-linkage", files.linkage,
        ]
    }
}

/// Runs the portal at a terminal (a pseudo-terminal from `script`), answering its prompts as a person types: each
/// answer is sent once its prompt appeared, so a PIN prompt has turned echo off before the PIN is typed.
enum Terminal {
    struct Result {
        var status: Int32
        var output: String
    }

    /// Whether `text` shows `secret` as a word of its own (not inside a serial number, a phone number or an ID).
    static func mentions(_ text: String, _ secret: String) -> Bool {
        text.split { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-")) }.contains { $0 == secret }
    }

    /// Whether a tool's output or error shows `secret`.
    static func mentions(_ result: Tools.Result, _ secret: String) -> Bool {
        mentions(result.output, secret) || mentions(result.error, secret)
    }

    static func run(
        _ arguments: [String], answers: [(prompt: String, reply: String)], timeout: Duration = .seconds(60)
    ) async throws -> Result {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
            "/usr/bin/script (util-linux) gives the portal a terminal; install bsdutils")
        let portal = Tools.binDirectory.appendingPathComponent("portal").path
        let command = ([portal] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        process.environment = ProcessInfo.processInfo.environment.merging(["SHELL": "/bin/sh"]) { $1 }
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stdout
        process.standardInput = stdin
        let received = Mutex(Data())
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            received.withLock { $0.append(data) }
        }
        try process.run()
        var pending = answers[...]
        var searchedFrom = 0
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                Issue.record("portal \(arguments) did not finish at the terminal in \(timeout)")
                break
            }
            if let next = pending.first {
                let text = received.withLock { String(decoding: $0, as: UTF8.self) }
                let tail = String(text.unicodeScalars.dropFirst(searchedFrom))
                if tail.contains(next.prompt) {
                    searchedFrom = text.unicodeScalars.count
                    _ = Tools.brokenPipesIgnored
                    try? stdin.fileHandleForWriting.write(contentsOf: Data((next.reply + "\n").utf8))
                    pending = pending.dropFirst()
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let status = process.waitForExit()
        stdout.fileHandleForReading.readabilityHandler = nil
        let rest = stdout.fileHandleForReading.readDataToEndOfFile()
        try? stdin.fileHandleForWriting.close()
        let output = received.withLock { String(decoding: $0 + rest, as: UTF8.self) }
        #expect(pending.isEmpty, "prompts never shown: \(pending.map(\.prompt))")
        return Result(status: status, output: output)
    }
}
