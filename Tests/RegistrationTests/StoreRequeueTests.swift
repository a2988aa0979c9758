import Foundation
import Registration
import Testing

@Suite("Outbox: a failed message goes back in the queue with the mails that wait for it")
struct StoreRequeueTests {
    static func stores() async throws -> [any RegistrationStore] {
        [InMemoryRegistrationStore(), try SQLiteRegistrationStore.inMemory(), try await PostgresTestDatabase.store()]
    }

    @Test("requeue a failed hand-over: it and its failed mail are pending again; other states are refused")
    func requeue() async throws {
        for store in try await Self.stores() {
            let bench = try ServiceTestBench(store: store)
            defer { bench.remove() }
            _ = try await bench.registered()
            let messages = try await store.outbox(state: nil)
            let handOver = try #require(messages.first { $0.kind == .gepsHandOver })
            let mail = try #require(messages.first { $0.after == handOver.id })
            let now = bench.clock.now
            try await store.record(.failed(error: "HTTP 400"), for: handOver.id, at: now)
            try await store.record(.failed(error: "Not sent"), for: mail.id, at: now)

            let later = now.addingTimeInterval(60)
            let requeued = try await store.requeue(handOver.id, at: later)
            #expect(Set(requeued) == [handOver.id, mail.id])
            let after = try await store.outbox(state: .pending)
            let again = try #require(after.first { $0.id == handOver.id })
            #expect(again.attempts == 0 && again.nextAttemptAt == later)
            #expect(after.contains { $0.id == mail.id })

            await #expect(throws: RegistrationError.self) { try await store.requeue(handOver.id, at: later) }
            let unknown = OutboxMessageID(rawValue: "M-UNKNOWN")
            await #expect(throws: RegistrationError.outboxMessageNotFound(unknown)) {
                try await store.requeue(unknown, at: later)
            }
        }
    }
}
