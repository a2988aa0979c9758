import CardSimulator
import Foundation
import Testing
import X509

/// The `portal` tool under what a careless user and a busy portal do to it: eight registrations of one 法人番号 at
/// once, a database altered by hand, bytes that are not UTF-8 on the command line, a mistyped path. No card is
/// used (certificates come from PEM files), so these run beside the card suites.
@Suite("The portal tool under concurrent writers and bad input")
struct PortalIntegrityToolTests {
    let directory: URL
    let authority: TestCertificateAuthority
    var database: String { directory.appending(path: "portal.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "portal-integrity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try TestCertificateAuthority(directory: directory.appending(path: "ca"))
    }

    static let company = "株式会社並行建設"

    /// `portal register` of the company with a certificate of its own in a PEM file, for holder `name`.
    func registerArguments(holder name: String) throws -> [String] {
        var holder = EBiddingHolder.example
        holder.companyName = Self.company
        holder.name = name
        let certificate = try authority.issueEBiddingCertificate(
            for: holder, publicKey: try CardRSAKey.generate(), validity: .valid(days: 395))
        let pem = directory.appending(path: "\(UUID().uuidString).pem").path
        try certificate.serializeAsPEM().pemString.write(toFile: pem, atomically: true, encoding: .utf8)
        return [
            "register", "--company", Self.company, "--company-postal-code", "100-0013",
            "--company-address", "東京都千代田区霞が関1-1-1", "--representative-title", "代表取締役",
            "--representative-name", name, "--corporate-number", "4011001098993", "--company-phone",
            "03-1234-5678", "--title", "代表取締役", "--name", name, "--postal-code", "1000013", "--address",
            "東京都千代田区霞が関1-1-1", "--phone", "03-1234-5678", "--fax", "03-1234-5679", "--mail",
            "taro@example.co.jp", "--pem", pem, "--yes", "--db", database,
        ]
    }

    @Test("eight `portal register` processes of one 法人番号 at once: one business stored, seven told why")
    func concurrentRegistrations() async throws {
        let arguments = try (0..<8).map { try registerArguments(holder: "並行 太郎\($0)") }
        let results = try await withThrowingTaskGroup(of: Tools.Result.self) { group in
            for list in arguments { group.addTask { try await Tools.run("portal", list) } }
            return try await group.reduce(into: [Tools.Result]()) { $0.append($1) }
        }
        let winners = results.filter { $0.status == 0 }
        #expect(winners.count == 1, "\(results.map { ($0.status, $0.error) })")
        for loser in results where loser.status != 0 {
            #expect(loser.status == 1, "\(loser.error)")
            #expect(loser.error.contains("法人番号 4011001098993 is registered already"), "\(loser.error)")
        }
        let list = try await Tools.run("portal", ["list", "--db", database])
        #expect(list.status == 0, "\(list.error)")
        #expect(list.output.split(separator: "\n").filter { $0.contains(Self.company) }.count == 1, "\(list.output)")
    }

    @Test(
        "`portal list --corporate-number` and `--expiring-within`: the business, or nothing, with its certificate's end"
    )
    func listFilters() async throws {
        let registered = try await Tools.run("portal", try registerArguments(holder: "期限 太郎"))
        #expect(registered.status == 0, "\(registered.error)")
        func list(_ arguments: [String]) async throws -> Tools.Result {
            try await Tools.run("portal", ["list", "--db", database] + arguments)
        }
        let byNumber = try await list(["--corporate-number", "4011001098993"])
        #expect(byNumber.status == 0, "\(byNumber.error)")
        #expect(byNumber.output.contains(Self.company), "\(byNumber.output)")
        // The certificate is valid for 395 days: not within 30, within 400 (its end shown).
        let soon = try await list(["--corporate-number", "4011001098993", "--expiring-within", "30"])
        #expect(soon.status == 0, "\(soon.error)")
        #expect(!soon.output.contains(Self.company), "\(soon.output)")
        let later = try await list(["--expiring-within", "400"])
        #expect(later.status == 0, "\(later.error)")
        #expect(later.output.contains(Self.company) && later.output.contains("有効期限"), "\(later.output)")
        let other = try await list(["--corporate-number", "1234"])
        #expect(other.status != 0)
        #expect(!other.output.contains(Self.company))
    }

    @Test("a column dropped by hand: exit 2 with the table and column named, no crash, no personal data")
    func alteredSchema() async throws {
        let registered = try await Tools.run("portal", try registerArguments(holder: "個人 情報子"))
        #expect(registered.status == 0, "\(registered.error)")
        let python = try await Tools.run(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                    + "c.execute('alter table user drop column fax'); c.commit()",
                database,
            ])
        #expect(python.status == 0, "\(python.error)")

        let list = try await Tools.run("portal", ["list", "--db", database])
        #expect(list.status == 2, "status \(list.status): \(list.error)")
        #expect(list.error.contains("column fax of table user"), "\(list.error)")
        for personal in ["個人 情報子", "taro@example.co.jp", "霞が関", "03-1234-5679"] {
            #expect(!list.error.contains(personal), "\(list.error)")
            #expect(!list.output.contains(personal), "\(list.output)")
        }
    }

    @Test("an argument that is not UTF-8 is refused with its option named (exit 64), and nothing is created")
    func invalidUTF8Argument() async throws {
        var arguments = try registerArguments(holder: "入札 太郎")
        let name = try #require(arguments.firstIndex(of: "--name"))
        arguments[name + 1] = "NAME_PLACEHOLDER"
        // The shell passes the byte 0xFF (Latin-1 ÿ, or half of a Shift_JIS character) as it is.
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(
            separator: " ")
        let script =
            "exec \"$0\" " + quoted.replacingOccurrences(of: "'NAME_PLACEHOLDER'", with: "\"$(printf '\\211\\374')\"")
        let result = try await Tools.run(
            executable: URL(fileURLWithPath: "/bin/sh"),
            ["-c", script, Tools.binDirectory.appendingPathComponent("portal").path])
        #expect(result.status == 64, "status \(result.status): \(result.error)")
        #expect(result.error.contains("the value of --name is not valid UTF-8"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: database))
    }

    @Test("a command that only reads does not create its database; an empty one says so")
    func readOnlyCommands() async throws {
        let typo = directory.appending(path: "typo.sqlite").path
        for arguments in [["list"], ["show", "B-NOBODY"], ["outbox", "list"]] {
            let result = try await Tools.run("portal", arguments + ["--db", typo])
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains("there is no database at \(typo)"), "\(result.error)")
            #expect(!FileManager.default.fileExists(atPath: typo))
        }
        let empty = directory.appending(path: "empty.sqlite").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let emptyFile = try await Tools.run("portal", ["list", "--db", empty])
        #expect(emptyFile.status == 2)
        #expect(emptyFile.error.contains("empty (0 bytes)"), "\(emptyFile.error)")
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)
    }
}
