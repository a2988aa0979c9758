import Foundation
import Testing

/// The `portal` tool on PostgreSQL (`--db postgres://…`, or `DATABASE_URL`): several processes registering one
/// 法人番号 at once, and a password in the URL never printed. The server is the test bench's (PI_TEST_POSTGRES_URL);
/// each test works in a schema of its own.
@Suite("The portal tool on PostgreSQL")
struct PortalPostgresToolTests {
    let bench: PortalIntegrityToolTests
    let url: String

    init() throws {
        bench = try PortalIntegrityToolTests()
        let base =
            ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
            ?? "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test"
        let schema = "t_\(Int(Date().timeIntervalSince1970))_" + UUID().uuidString.prefix(8).lowercased()
        url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    }

    /// `portal register` arguments for holder `name`, on the PostgreSQL database.
    func registerArguments(holder name: String) throws -> [String] {
        Array(try bench.registerArguments(holder: name).dropLast(2)) + ["--db", url]
    }

    @Test("four `portal register --db postgres://…` processes of one 法人番号 at once: one stored, three told why")
    func concurrentRegistrations() async throws {
        // A command that only reads creates nothing: the four register processes create the schema, racing.
        let listed = try await Tools.run("portal", ["list", "--db", url])
        #expect(listed.status == 2, "\(listed.error)")
        #expect(listed.error.contains("there is no registration database at"), "\(listed.error)")
        let arguments = try (0..<4).map { try registerArguments(holder: "並行 太郎\($0)") }
        let results = try await withThrowingTaskGroup(of: Tools.Result.self) { group in
            for list in arguments { group.addTask { try await Tools.run("portal", list) } }
            return try await group.reduce(into: [Tools.Result]()) { $0.append($1) }
        }
        #expect(results.filter { $0.status == 0 }.count == 1, "\(results.map { ($0.status, $0.error) })")
        for loser in results where loser.status != 0 {
            #expect(loser.status == 1, "\(loser.error)")
            #expect(loser.error.contains("法人番号 4011001098993 is registered already"), "\(loser.error)")
        }
        // DATABASE_URL serves when --db is not given.
        let list = try await Tools.run("portal", ["list"], environment: ["DATABASE_URL": url])
        #expect(list.status == 0, "\(list.error)")
        let rows = list.output.split(separator: "\n").filter { $0.contains(PortalIntegrityToolTests.company) }
        #expect(rows.count == 1, "\(list.output)")
        let outbox = try await Tools.run("portal", ["outbox", "list", "--db", url])
        #expect(outbox.status == 0, "\(outbox.error)")
        #expect(outbox.output.contains("gepsHandOver"), "\(outbox.output)")
    }

    @Test("a server that cannot be reached: exit 2 with a sentence that never holds the password")
    func unreachableWithoutPassword() async throws {
        let address = "postgres://user:secret@127.0.0.1:1/x"
        for (arguments, environment) in [
            (["list", "--db", address], [String: String]()), (["outbox", "list"], ["DATABASE_URL": address]),
            (["show", "B-NOBODY", "--db", address], [:]),
        ] {
            let result = try await Tools.run("portal", arguments, environment: environment)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains("cannot be reached"), "\(result.error)")
            #expect(result.error.contains("postgres://user@127.0.0.1:1/x"), "\(result.error)")
            #expect(!result.error.contains("secret") && !result.output.contains("secret"), "\(result.error)")
        }
        let help = try await Tools.run("portal", ["list", "--help"], environment: ["DATABASE_URL": address])
        #expect(help.output.contains("--db"), "\(help.output)")
        #expect(!help.output.contains("secret") && !help.error.contains("secret"))
    }
}
