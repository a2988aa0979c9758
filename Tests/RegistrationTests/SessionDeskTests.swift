import CardCredentials
import Foundation
import Registration
import Testing

@Suite("Sessions in the store: every server instance knows them, a database copy opens none")
struct SessionDeskTests {
    @Test("a session opened on one instance is known on another; logout ends it everywhere")
    func twoInstances() async throws {
        let path = try StoreTests.temporaryPath()
        let bench = try ServiceTestBench(store: try SQLiteRegistrationStore(path: path))
        defer { bench.remove() }
        let (_, representative, _) = try await bench.registered()
        let login = bench.login()
        let session = try await login.login(
            try await login.issueChallenge().sign(for: .inProcess, with: representative))
        let clock = bench.clock
        let first = SessionDesk(store: bench.store, now: { clock.now })
        let second = SessionDesk(store: try SQLiteRegistrationStore(path: path), now: { clock.now })

        let opened = try await first.open(session)
        #expect(opened.token.utf8.count == 43)
        #expect(try await second.session(for: opened.token)?.session == session)
        // The store keeps the token's hash only: the database file does not hold the token.
        let bytes =
            try Data(contentsOf: URL(fileURLWithPath: path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data(opened.token.utf8)) == nil)

        #expect(try await second.close(opened.token))
        #expect(try await first.session(for: opened.token) == nil)
        #expect(try await !first.close(opened.token))
    }

    @Test("a session ends after its idle time, is extended by use, and never outlives its absolute limit")
    func lifetimes() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (_, representative, _) = try await bench.registered()
        let login = bench.login()
        let session = try await login.login(
            try await login.issueChallenge().sign(for: .inProcess, with: representative))
        let clock = bench.clock
        let desk = SessionDesk(store: bench.store, idleLifetime: 600, absoluteLifetime: 1_500, now: { clock.now })

        let idle = try await desk.open(session)
        clock.advance(by: 601)
        #expect(try await desk.session(for: idle.token) == nil)

        let busy = try await desk.open(session)
        for _ in 0..<2 {
            clock.advance(by: 500)
            #expect(try await desk.session(for: busy.token)?.session == session, "used within its idle time: extended")
        }
        clock.advance(by: 501)  // 1,501 s after opening: past the absolute limit, though used 501 s ago
        #expect(try await desk.session(for: busy.token) == nil)
    }

    @Test(
        "a malformed or unknown token is no session",
        arguments: ["", "short", String(repeating: "a", count: 43), "../../x"]
    )
    func malformed(_ token: String) async throws {
        let desk = SessionDesk(store: InMemoryRegistrationStore())
        #expect(try await desk.session(for: token) == nil)
        #expect(try await !desk.close(token))
    }
}
