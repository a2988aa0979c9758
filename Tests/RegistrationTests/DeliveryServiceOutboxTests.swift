import Foundation
import Registration
import Testing

@Suite("Delivery: the service's own outbox delivered through the real SMTP and GEPS test servers")
struct DeliveryServiceOutboxTests {
    @Test func registrationAndNewAgentReachGEPSAndTheMailboxes() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let smtp = try await DeliverySMTPServer.start()
        defer { smtp.stop() }
        let gepsServer = try await DeliveryFixtureServer.start("geps-reference-server.py")
        defer { gepsServer.stop() }
        _ = try await bench.registered()

        let written = try await bench.store.outbox(state: .pending)
        #expect(written.filter { $0.kind == .gepsHandOver }.count == 2)
        #expect(written.filter { $0.kind == .mail }.count == 3)

        let dispatcher = OutboxDispatcher(
            store: bench.store, mail: smtp.transport(),
            geps: HTTPJSONGEPSGateway(baseURL: gepsServer.gepsURL, timeout: .seconds(10)))
        let report = try await dispatcher.deliverDue(now: bench.clock.now)
        #expect(report.delivered == 5, "\(report)")
        #expect(report.failed == 0 && report.retried == 0)
        // Every mail went out after the hand-over of its change.
        for line in report.lines where line.kind == .mail {
            let mail = try #require(written.first { $0.id == line.id })
            let handOver = try #require(report.lines.firstIndex { $0.id == mail.after })
            #expect(handOver < (report.lines.firstIndex { $0.id == line.id } ?? -1))
        }
        #expect(try await bench.store.outbox(state: .pending).isEmpty)

        let held = try await gepsServer.gepsHandOvers()
        #expect(held.count == 2)
        #expect(Set(held.map(\.key)) == Set(written.filter { $0.kind == .gepsHandOver }.map(\.idempotencyKey)))
        #expect(held.allSatisfy { $0.document["businessName"] == .string(ServiceTestBench.companyName) })

        let mails = try smtp.received().map { try smtp.decoded($0) }
        #expect(mails.count == 3)
        #expect(mails.allSatisfy { $0.subject == "[重要]利用者更新完了通知" && $0.defects.isEmpty })
        #expect(mails.allSatisfy { $0.charset == "utf-8" && !$0.body.isEmpty })
        #expect(Set(mails.flatMap(\.rcptTos)) == ["taro@example.co.jp", "hanako@example.co.jp"])
        #expect(Set(mails.map(\.messageID)).count == 3, "each mail has its own Message-ID")
        #expect(try await dispatcher.deliverDue(now: bench.clock.now.addingTimeInterval(86400)).lines.isEmpty)
    }
}
