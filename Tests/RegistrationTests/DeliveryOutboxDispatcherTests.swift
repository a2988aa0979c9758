import Foundation
import Testing

@testable import Registration

@Suite(
    "Delivery: OutboxDispatcher over the in-memory and SQLite stores, a real SMTP server and the GEPS reference server")
struct DeliveryOutboxDispatcherTests {
    static let start = Date(timeIntervalSince1970: 1_795_476_516)

    /// A committed change with its two messages: the hand-over, and the mail that waits for it.
    struct Change {
        var commit: RegistrationCommit
        var geps: OutboxMessage
        var mail: OutboxMessage
    }

    static func change(mailTo: String = "taro@example.co.jp", mailPayload: [UInt8]? = nil) throws -> Change {
        let business = try BusinessInformation(
            name: "株式会社テスト建設", postalCode: "100-0013", address: "東京都千代田区霞が関1-1-1",
            representativeTitle: "代表取締役", representativeName: "山田 太郎", corporateNumber: nil,
            phone: "03-1234-5678")
        var registration = BusinessRegistration(business: business, at: start)
        registration.version = 1
        let record = ChangeRecord(
            businessID: registration.id, actor: nil, kind: "newRegistration", summary: "新規登録", version: 1,
            committedAt: start)
        let geps = OutboxMessage(
            changeID: record.id, businessID: registration.id, kind: .gepsHandOver,
            payload: Array(#"{"kind":"newRegistration","businessName":"株式会社テスト建設"}"#.utf8), at: start)
        var mail = OutboxMessage(
            changeID: record.id, businessID: registration.id, kind: .mail, payload: [], after: geps.id, at: start)
        let message = try MailMessage(
            from: try MailAddress("noreply@portal.example.go.jp"), fromName: "調達ポータル",
            to: [try MailAddress(mailTo)], subject: "[重要]利用者更新完了通知", body: "登録が完了しました。\n",
            idempotencyKey: mail.idempotencyKey, date: start)
        mail.payload = try mailPayload ?? Array(JSONEncoder().encode(message))
        let commit = RegistrationCommit(
            expectedVersion: 0, registration: registration, record: record, outbox: [geps, mail])
        return Change(commit: commit, geps: geps, mail: mail)
    }

    /// The stores the dispatcher is tried with.
    enum StoreKind: String, CaseIterable, CustomStringConvertible {
        case inMemory, sqlite
        var description: String { rawValue }

        func make(in folder: URL) throws -> any RegistrationStore {
            switch self {
            case .inMemory: InMemoryRegistrationStore()
            case .sqlite: try SQLiteRegistrationStore(path: folder.appendingPathComponent("registration.sqlite").path)
            }
        }
    }

    /// The store with one committed change, the two servers, and a dispatcher over them.
    struct Bench {
        let folder: URL
        let store: any RegistrationStore
        let smtp: DeliverySMTPServer
        let gepsServer: DeliveryFixtureServer
        let change: Change
        let dispatcher: OutboxDispatcher

        init(
            _ kind: StoreKind, smtp: [String] = [], geps: [String] = [], maxAttempts: Int = 20, change: Change? = nil
        ) async throws {
            folder = try deliveryTemporaryFolder()
            store = try kind.make(in: folder)
            self.smtp = try await DeliverySMTPServer.start(smtp)
            gepsServer = try await DeliveryFixtureServer.start("geps-reference-server.py", geps)
            self.change = try change ?? DeliveryOutboxDispatcherTests.change()
            try await store.commit(self.change.commit)
            dispatcher = OutboxDispatcher(
                store: store, mail: self.smtp.transport(),
                geps: HTTPJSONGEPSGateway(baseURL: gepsServer.gepsURL, timeout: .seconds(10)),
                maxAttempts: maxAttempts)
        }

        func message(_ id: OutboxMessageID) async throws -> OutboxMessage {
            try #require(try await store.outbox(state: nil).first { $0.id == id })
        }

        func stop() {
            smtp.stop()
            gepsServer.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test(arguments: StoreKind.allCases) func handOverGoesFirstThenItsMailInTheSameRun(store: StoreKind) async throws {
        let bench = try await Bench(store)
        defer { bench.stop() }
        let report = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(report.lines.map(\.id) == [bench.change.geps.id, bench.change.mail.id])
        #expect(report.lines.first?.outcome == .delivered(receipt: "GEPS-000001"))
        #expect(report.delivered == 2)
        #expect(report.description.hasPrefix("delivered 2, to retry 0, failed 0"))
        let names = try bench.smtp.received()
        try #require(names.count == 1)
        let mail = try bench.smtp.decoded(names[0])
        #expect(mail.subject == "[重要]利用者更新完了通知")
        #expect(mail.body == "登録が完了しました。\r\n")
        #expect(mail.rcptTos == ["taro@example.co.jp"])

        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(3600)).lines.isEmpty)
        let geps = try await bench.message(bench.change.geps.id)
        #expect(geps.state == .delivered)
        #expect(geps.receipt == "GEPS-000001")
        #expect(geps.attempts == 1)
        #expect(try await bench.message(bench.change.mail.id).state == .delivered)
        #expect(try await bench.gepsServer.gepsHandOvers().map(\.key) == [bench.change.geps.idempotencyKey])
        #expect(try bench.smtp.received().count == 1)
    }

    @Test(arguments: StoreKind.allCases) func gepsUnavailableTwiceIsRetriedWithBackoffThenDeliveredOnce(
        store: StoreKind
    ) async throws {
        let bench = try await Bench(store, geps: ["--fail-first", "2"])
        defer { bench.stop() }
        let t0 = Self.start
        var report = try await bench.dispatcher.deliverDue(now: t0)
        #expect(report.retried == 1)
        #expect(report.lines.map(\.id) == [bench.change.geps.id])
        #expect(try bench.smtp.received().isEmpty)
        #expect(try await bench.message(bench.change.mail.id).state == .pending)
        #expect(report.lines.first?.description.contains("HTTP 503") == true)
        var geps = try await bench.message(bench.change.geps.id)
        #expect(geps.nextAttemptAt == t0.addingTimeInterval(30))
        #expect(geps.lastError?.contains("503") == true)

        #expect(try await bench.dispatcher.deliverDue(now: t0.addingTimeInterval(29)).lines.isEmpty)
        report = try await bench.dispatcher.deliverDue(now: t0.addingTimeInterval(30))
        #expect(report.retried == 1)
        geps = try await bench.message(bench.change.geps.id)
        #expect(geps.nextAttemptAt == t0.addingTimeInterval(30 + 60))
        #expect(geps.attempts == 2)
        #expect(try bench.smtp.received().isEmpty)
        #expect(try await bench.message(bench.change.mail.id).attempts == 0)

        #expect(try await bench.dispatcher.deliverDue(now: t0.addingTimeInterval(89)).lines.isEmpty)
        report = try await bench.dispatcher.deliverDue(now: t0.addingTimeInterval(90))
        #expect(report.lines.first?.outcome == .delivered(receipt: "GEPS-000001"))
        #expect(report.lines.first?.attempt == 3)
        #expect(report.lines.map(\.id) == [bench.change.geps.id, bench.change.mail.id])
        #expect(report.delivered == 2)

        let held = try await bench.gepsServer.gepsHandOvers()
        #expect(held.count == 1)
        #expect(held.first?.deliveries == 1)
        #expect(try bench.smtp.received().count == 1)
    }

    @Test(arguments: StoreKind.allCases) func lostAnswerIsDeliveredAgainAndGEPSHoldsItOnce(store: StoreKind)
        async throws
    {
        let bench = try await Bench(store, geps: ["--drop-answer-first", "1"])
        defer { bench.stop() }
        let first = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(first.retried == 1)
        #expect(try bench.smtp.received().isEmpty)
        let second = try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(30))
        #expect(second.lines.first?.outcome == .delivered(receipt: "GEPS-000001"))
        let held = try await bench.gepsServer.gepsHandOvers()
        #expect(held.count == 1)
        #expect(held.first?.deliveries == 2)
        #expect(held.first?.key == bench.change.geps.idempotencyKey)
        #expect(second.lines.map(\.id) == [bench.change.geps.id, bench.change.mail.id])
        #expect(try bench.smtp.received().count == 1)
    }

    @Test(arguments: StoreKind.allCases) func aSecondDispatcherAfterACrashDeliversWithTheSameKey(store: StoreKind)
        async throws
    {
        // A dispatcher leased the hand-over and died before recording: after the lease, another sends it again.
        let bench = try await Bench(store)
        defer { bench.stop() }
        let leased = try await bench.store.leaseDueMessages(
            at: Self.start, limit: 10, leaseUntil: Self.start.addingTimeInterval(300))
        #expect(leased.map(\.id) == [bench.change.geps.id])
        _ = try await bench.dispatcher.geps.handOver(
            GEPSHandOver(idempotencyKey: leased[0].idempotencyKey, document: leased[0].payload))
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(299)).lines.isEmpty)
        let report = try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(301))
        #expect(report.lines.first?.outcome == .delivered(receipt: "GEPS-000001"))
        let held = try await bench.gepsServer.gepsHandOvers()
        #expect(held.count == 1)
        #expect(held.first?.deliveries == 2)
    }

    @Test(arguments: StoreKind.allCases) func permanentGEPSRefusalFailsTheHandOverAndItsMail(store: StoreKind)
        async throws
    {
        let bench = try await Bench(store, geps: ["--fail-first", "1", "--fail-status", "422"])
        defer { bench.stop() }
        let report = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(report.failed == 2)
        #expect(report.lines.map(\.id) == [bench.change.geps.id, bench.change.mail.id])
        #expect(try await bench.message(bench.change.geps.id).state == .failed)
        let mail = try await bench.message(bench.change.mail.id)
        #expect(mail.state == .failed)
        #expect(mail.lastError?.contains("Not sent") == true)
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(7200)).lines.isEmpty)
        #expect(try await bench.gepsServer.gepsHandOvers().isEmpty)
        #expect(try bench.smtp.received().isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func permanentMailRefusalFailsTheMailOnly(store: StoreKind) async throws {
        let bench = try await Bench(
            store,
            smtp: ["--reject", "gone@example.co.jp"], change: try Self.change(mailTo: "gone@example.co.jp"))
        defer { bench.stop() }
        let report = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(report.delivered == 1)
        #expect(report.failed == 1)
        let mail = try await bench.message(bench.change.mail.id)
        #expect(mail.state == .failed)
        #expect(mail.lastError?.contains("550") == true)
        #expect(try await bench.message(bench.change.geps.id).state == .delivered)
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(7200)).lines.isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func transientMailRefusalIsRetried(store: StoreKind) async throws {
        let bench = try await Bench(store, smtp: ["--fail-first", "1"])
        defer { bench.stop() }
        let report = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(report.delivered == 1)
        #expect(report.retried == 1)
        #expect(try await bench.message(bench.change.mail.id).lastError?.contains("451") == true)
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(29)).lines.isEmpty)
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(30)).delivered == 1)
        #expect(try bench.smtp.received().count == 1)
    }

    @Test(arguments: StoreKind.allCases) func maxAttemptsTurnsARetryableErrorIntoAFailure(store: StoreKind) async throws
    {
        let bench = try await Bench(store, geps: ["--fail-first", "100"], maxAttempts: 3)
        defer { bench.stop() }
        #expect(try await bench.dispatcher.deliverDue(now: Self.start).retried == 1)
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(30)).retried == 1)
        let last = try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(90))
        #expect(last.failed == 2)
        let geps = try await bench.message(bench.change.geps.id)
        #expect(geps.state == .failed)
        #expect(geps.attempts == 3)
        #expect(geps.lastError?.contains("Gave up after 3 attempts") == true)
        #expect(geps.lastError?.contains("HTTP 503") == true)
        #expect(geps.lastError?.contains("will be tried again") == false)
        #expect(try await bench.dispatcher.deliverDue(now: Self.start.addingTimeInterval(86400)).lines.isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func unreadableMailPayloadFailsWithoutSending(store: StoreKind) async throws {
        let bench = try await Bench(store, change: try Self.change(mailPayload: Array("not json".utf8)))
        defer { bench.stop() }
        let report = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(report.delivered == 1)
        #expect(report.failed == 1)
        #expect(try await bench.message(bench.change.mail.id).lastError?.contains("not a mail") == true)
        #expect(try bench.smtp.received().isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func anUnreachableReceiverEndsTheRunAndLimitIsHonoured(store: StoreKind)
        async throws
    {
        let bench = try await Bench(store)
        defer { bench.stop() }
        let second = try Self.change()
        try await bench.store.commit(second.commit)
        bench.gepsServer.stop()
        let report = try await bench.dispatcher.deliverDue(now: Self.start)
        #expect(report.lines.map(\.id) == [bench.change.geps.id])
        #expect(report.retried == 1)
        #expect(try await bench.message(second.geps.id).attempts == 0)

        let gepsOK = try await DeliveryFixtureServer.start("geps-reference-server.py")
        defer { gepsOK.stop() }
        var dispatcher = bench.dispatcher
        dispatcher.geps = HTTPJSONGEPSGateway(baseURL: gepsOK.gepsURL, timeout: .seconds(10))
        let limited = try await dispatcher.deliverDue(now: Self.start, limit: 1)
        #expect(limited.lines.map(\.id) == [second.geps.id])
        let rest = try await dispatcher.deliverDue(now: Self.start.addingTimeInterval(30))
        #expect(rest.lines.map(\.id) == [bench.change.geps.id, bench.change.mail.id, second.mail.id])
        #expect(rest.delivered == 3)
        #expect(try await gepsOK.gepsHandOvers().count == 2)
        #expect(try bench.smtp.received().count == 2)
    }

    @Test func backoffDoublesUpToTheMaximumAndJitterOnlyShortensIt() {
        let backoff = OutboxDispatcher.Backoff()
        #expect(backoff.delay(afterAttempts: 0) == .seconds(30))
        #expect(backoff.delay(afterAttempts: 1) == .seconds(60))
        #expect(backoff.delay(afterAttempts: 6) == .seconds(1920))
        #expect(backoff.delay(afterAttempts: 7) == .seconds(3600))
        #expect(backoff.delay(afterAttempts: 1000) == .seconds(3600))
        let jittered = OutboxDispatcher.Backoff(jitter: 0.5)
        for _ in 0..<50 {
            let delay = jittered.delay(afterAttempts: 2)
            #expect(delay >= .seconds(60) && delay <= .seconds(120))
        }
    }
}
