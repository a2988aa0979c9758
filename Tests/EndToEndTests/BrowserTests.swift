import CardCredentials
import CardSimulator
import Foundation
import PCSC
import Registration
import Testing
import X509

/// The portal's pages in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
/// Selenium (Fixtures/browser-bridge.py), the page on a `portal-server` process, the `card-agent` process on
/// loopback, IC cards simulated in the vpcd reader of slot 1, PINs answered by the scripted pinentry.
///
/// The portal's address is made to count as public (`--ip-address-space-overrides`), so Chromium's Local Network
/// Access rules apply for real: the page reaches the agent only after the test grants the permission
/// (`loopbackNetwork` through CDP), as a person or an administrator would. Every screen is saved as a PNG under
/// `.build/test-output/browser/` (or `$PI_TEST_OUTPUT/browser/`); Documentation/BrowserGuide.md shows them.
extension EndToEnd {
    @Suite(
        "Browser: the portal's pages, the card agent and Chromium",
        .serialized, .enabled(if: BrowserBridge.isAvailable || OpenSCTools.isCI))
    struct BrowserTests {
        static let slot = 1
        static let currentPIN = EndToEnd.PortalClientEndToEndTests.currentPIN
        static let newPIN = EndToEnd.PortalClientEndToEndTests.newPIN
        static let operatorToken = "e2e-operator-token-0123456789abcdef0123456789"

        /// A portal on a free port with one server, the agent allowing it, and Chromium with the portal public.
        static func withPortal(
            answers: [String], grant: Bool = true, agentLog: URL? = nil,
            _ body: (ClientBench, AgentProcess, BrowserBridge, String) async throws -> Void
        ) async throws {
            let port = try AgentProcess.freePort()
            let origin = "http://127.0.0.1:\(port)"
            let script = try ScriptedPinentry(answers)
            defer { script.remove() }
            let tokenFile = script.directory.appending(path: "operator-token")
            try Self.operatorToken.write(to: tokenFile, atomically: true, encoding: .utf8)
            try await AgentProcess.with(script, origin: origin, log: agentLog) { agent in
                let bench = try await ClientBench(
                    servers: 1, origin: origin, listen: "127.0.0.1:\(port)",
                    arguments: [
                        "--card-agent", "http://127.0.0.1:\(agent.port)", "--operator-token-file", tokenFile.path,
                    ])
                defer { bench.stop() }
                let browser = try await BrowserBridge.start(
                    public: ["127.0.0.1:\(port)"], grant: grant ? [origin, "http://localhost:\(port)"] : [])
                defer { browser.quit() }
                try await body(bench, agent, browser, origin)
            }
        }

        @Test("login, the whole IC card renewal with the swap and 電子証明書更新確認; the old card is refused afterwards")
        func renewal() async throws {
            try await Self.withPortal(
                answers: [
                    "pin \(Self.currentPIN)", "pin \(Self.currentPIN)", "pin \(Self.newPIN)", "pin \(Self.currentPIN)",
                ]
            ) { bench, _, browser, origin in
                let new = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
                try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.wait("document.getElementById('agent-status').dataset.state === 'ready'")
                    try await browser.screenshot("01-login")

                    try await browser.click("#login")
                    try await browser.waitForScreen("registration")
                    let business = try await browser.text("#business")
                    #expect(business.contains(bench.holder.companyName))
                    #expect(business.contains("代表者"))
                    try await browser.screenshot("02-registration")

                    try await browser.click("#start-renewal")
                    try await browser.waitForScreen("current-card")
                    try await browser.screenshot("03-current-card")
                    try await browser.click("#present-current")
                    try await browser.waitForScreen("swap", idle: false)
                    try await browser.screenshot("04-swap")

                    await server.remove()
                    try await TestBench.waitUntil(context: context, reader: reader, present: false)
                    try await server.insert(new)
                    try await browser.waitForScreen("confirm", timeout: 60)
                    let confirmation = try await browser.text("#screen-confirm")
                    #expect(confirmation.contains("電子証明書更新確認"))
                    #expect(confirmation.contains("現在使用しているICカード"))
                    #expect(confirmation.contains("新規に使用するICカード"))
                    #expect(confirmation.contains(bench.holder.name))
                    try await browser.screenshot("05-confirm")

                    try await browser.click("#update")
                    try await browser.waitForScreen("completed")
                    try await browser.screenshot("06-completed")

                    // The old card, back in the reader, no longer logs in.
                    try await browser.click("#to-login")
                    await server.remove()
                    try await TestBench.waitUntil(context: context, reader: reader, present: false)
                    try await server.insert(bench.current)
                    try await TestBench.waitUntil(context: context, reader: reader, present: true)
                    try await browser.click("#login")
                    let refused = try await browser.waitForMessage()
                    let refusal = try await browser.text("#message")
                    #expect(refused == "certificateNotActive", "\(refusal)")
                    #expect(try await browser.screen() == "login")
                    try await browser.screenshot("07-old-card-refused")
                }
            }
        }

        @Test("the certificate update without login (電子証明書更新): the registered card, the swap, 更新実行")
        func certificateUpdate() async throws {
            // A third answer for the new card's retry below, when it comes.
            let answers = ["pin \(Self.currentPIN)", "pin \(Self.newPIN)", "pin \(Self.newPIN)"]
            try await Self.withPortal(answers: answers) {
                bench, _, browser, origin in
                let newCard = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
                let store = try SQLiteRegistrationStore(
                    path: bench.directory.appending(path: "portal.sqlite").path, mode: .existingOnly)
                let before = try #require(try await store.registration(bench.registered.id))
                try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.click("#start-update")
                    try await browser.waitForScreen("update-type")
                    try await browser.screenshot("12-update-type")
                    // A My Number card without the consent to ask J-LIS is refused on the page, before the server.
                    try await browser.click("input[value='myNumberCard']")
                    try await browser.wait("!document.getElementById('jpki-consent-row').hidden")
                    try await browser.click("#update-next")
                    #expect(try await browser.waitForMessage() == "jpkiConsentRequired")
                    try await browser.click("input[value='privateCertificate']")
                    try await browser.click("#update-next")
                    try await browser.waitForScreen("update-current")
                    try await browser.click("#update-present-current")
                    try await browser.waitForScreen("update-swap", idle: false)
                    await server.remove()
                    try await TestBench.waitUntil(context: context, reader: reader, present: false)
                    try await server.insert(newCard)
                    try await browser.waitForScreen("update-confirm", timeout: 60)
                    let confirmation = try await browser.text("#screen-update-confirm")
                    #expect(confirmation.contains("電子証明書の更新確認"))
                    #expect(confirmation.contains("更新元電子証明書情報"))
                    #expect(confirmation.contains(bench.holder.companyName))
                    try await browser.screenshot("13-update-confirm")
                    try await browser.click("#update-commit")
                    try await browser.waitForScreen("update-completed")
                    try await browser.screenshot("14-update-completed")
                }
                let after = try #require(try await store.registration(bench.registered.id))
                #expect(after.version == before.version + 1)
                let active = after.bindings.filter { $0.status(at: Date()) == .active }
                #expect(active.map(\.certificateDER) == [newCard.snapshot.holderCertificate])
            }
        }

        @Test(
            "the revocation request (インターネット失効申込): both documents, the card and its PIN, the form, the card's signature, 確定, the record"
        )
        func revocation() async throws {
            let pin = "pin \(Self.newPIN)"
            try await Self.withPortal(answers: [pin, "yes", pin]) { bench, _, browser, origin in
                let card = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
                let serial = CertificateSummary(try Certificate(derEncoded: card.snapshot.holderCertificate))
                    .serialNumber
                try await TestBench.withCard(card, slot: Self.slot) { _, _, _ in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.click("#start-revocation")
                    try await browser.waitForScreen("revoke-agreement")
                    try await browser.click("#revoke-agree")
                    #expect(try await browser.waitForMessage() == "documentsNotOpened")
                    try await browser.screenshot("16-revoke-agreement")
                    try await browser.click("#revoke-procedure")
                    try await browser.wait("!document.getElementById('revoke-document').hidden")
                    try await browser.click("#revoke-terms")
                    try await browser.wait(
                        "document.getElementById('revoke-document-title').textContent.includes('規約')")
                    try await browser.screenshot("17-revoke-terms")
                    try await browser.click("#revoke-agree")
                    try await browser.waitForScreen("revoke-card")
                    try await browser.click("#revoke-present")
                    try await browser.waitForScreen("revoke-form")
                    #expect(try await browser.text("#revoke-card-rows").contains(bench.holder.companyName))
                    try await browser.setValue("#revoke-name", "入札 太郎")
                    try await browser.setValue("#revoke-phone", "03-1234-5678")
                    try await browser.setValue("#revoke-mail", "taro@example.co.jp")
                    try await browser.setValue("#revoke-department", "総務部")
                    try await browser.screenshot("18-revoke-form")
                    try await browser.click("#revoke-fill")
                    try await browser.waitForScreen("revoke-confirm")
                    let confirmation = try await browser.text("#screen-revoke-confirm")
                    #expect(confirmation.contains("失効申込内容確認"))
                    #expect(confirmation.contains("申込ID"))
                    // 失効申込をする(確定) stays off until 上記内容を確認しました is ticked.
                    try await browser.wait("document.getElementById('revoke-submit').disabled")
                    try await browser.click("#revoke-checked")
                    try await browser.screenshot("19-revoke-confirm")
                    try await browser.click("#revoke-submit")
                    try await browser.waitForScreen("revoke-completed")
                    let record = try await browser.text("#revoke-record")
                    #expect(record.contains("受付番号"))
                    #expect(record.contains("紛失"))
                    try await browser.screenshot("20-revoke-completed")
                    // The simulator's CA revoked the card's certificate.
                    #expect(try bench.isRevoked(serial: serial))
                }
            }
        }

        @Test("the certificate update with a My Number card: J-LIS consent, the registered signing certificate, 更新実行")
        func myNumberCertificateUpdate() async throws {
            let signingPIN = "SIGN1234"
            try await Self.withPortal(answers: ["pin \(signingPIN)"]) { bench, _, browser, origin in
                // An agent registered with the signing certificate of a My Number card; JPKI has renewed it since.
                let old = try JPKICard.issue(
                    by: bench.authority, holder: .example, signingPIN: signingPIN, authenticationPIN: "1234")
                let renewed = try JPKICard.issue(
                    by: bench.authority, holder: .example, signingPIN: "NEWSIGN99", authenticationPIN: "5678")
                let oldSigning = try Certificate(derEncoded: old.snapshot.signingCertificate)
                let newSigning = try Certificate(derEncoded: renewed.snapshot.signingCertificate)
                let store = try SQLiteRegistrationStore(
                    path: bench.directory.appending(path: "portal.sqlite").path, mode: .existingOnly)
                let service = RegistrationService(
                    store: store,
                    portal: PortalProfile(name: "電子入札システム", mailFrom: try MailAddress("noreply@portal.example.jp")))
                let attorney = try PowerOfAttorney(
                    agentID: UserID(rawValue: "new"), principal: bench.holder.companyName, agent: "試験 花子",
                    authority: ["入札"], validFrom: Date().addingTimeInterval(-86_400),
                    validUntil: Date().addingTimeInterval(300 * 86_400), provider: "テスト委任状サービス", reference: "POA-1")
                _ = try await service.commit(
                    try await service.prepare(
                        .addAgent(
                            try UserInformation(
                                title: "営業部長", name: "試験 花子", postalCode: "5008570", address: "岐阜県岐阜市司町４０番地１",
                                phone: "058-123-4560", fax: "", mail: "hanako@example.co.jp"),
                            oldSigning, .myNumberCard, powerOfAttorney: attorney),
                        to: bench.registered.id, by: .portal(operator: "e2e")))
                let serial = oldSigning.serialNumber.bytes.map { String(format: "%02X", $0) }.joined()
                let linkage: [String: Any] = [
                    "successors": [
                        [
                            "serial": serial, "cause": "superseded",
                            "certificate": try newSigning.serializeAsPEM().pemString,
                        ]
                    ]
                ]
                try JSONSerialization.data(withJSONObject: linkage).write(to: bench.jpkiLinkage)

                try await TestBench.withCard(old, slot: Self.slot) { _, _, _ in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.click("#start-update")
                    try await browser.waitForScreen("update-type")
                    try await browser.click("input[value='myNumberCard']")
                    try await browser.click("#jpki-consent")
                    try await browser.click("#update-next")
                    try await browser.waitForScreen("update-current")
                    #expect(try await browser.text("#update-current-text").contains("マイナンバーカード"))
                    try await browser.click("#update-present-current")
                    try await browser.waitForScreen("update-confirm")
                    let confirmation = try await browser.text("#screen-update-confirm")
                    #expect(confirmation.contains("電子証明書の更新確認"))
                    try await browser.screenshot("21-update-my-number-confirm")
                    try await browser.click("#update-commit")
                    try await browser.waitForScreen("update-completed")
                }
                let after = try #require(try await store.registration(bench.registered.id))
                let active = after.bindings.filter { $0.status(at: Date()) == .active }.map(\.certificateDER)
                #expect(active.contains(renewed.snapshot.signingCertificate), "the renewed certificate is bound")
                #expect(!active.contains(old.snapshot.signingCertificate), "the old one is not")
            }
        }

        @Test("two tabs race one renewal: both reach 電子証明書更新確認, the first 更新 wins, the second is refused, one change")
        func twoTabs() async throws {
            let (old, new) = ("pin \(Self.currentPIN)", "pin \(Self.newPIN)")
            try await Self.withPortal(answers: [old, old, old, new, new]) { bench, _, browser, origin in
                let newCard = try PrivateCAICCard.issue(by: bench.authority, holder: bench.holder, pin: Self.newPIN)
                let store = try SQLiteRegistrationStore(
                    path: bench.directory.appending(path: "portal.sqlite").path, mode: .existingOnly)
                let before = try #require(try await store.registration(bench.registered.id))
                try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.click("#login")
                    try await browser.waitForScreen("registration")
                    // The second tab shares the session cookie.
                    try await browser.send(["op": "tab", "url": origin + "/"])
                    try await browser.waitForScreen("registration")
                    for tab in [0, 1] {
                        try await browser.send(["op": "switch", "index": tab])
                        try await browser.click("#start-renewal")
                        try await browser.waitForScreen("current-card")
                        try await browser.click("#present-current")
                        try await browser.waitForScreen("swap", idle: false)
                    }
                    // Both tabs wait for the swap; one swap answers both.
                    await server.remove()
                    try await TestBench.waitUntil(context: context, reader: reader, present: false)
                    try await server.insert(newCard)
                    for tab in [0, 1] {
                        try await browser.send(["op": "switch", "index": tab])
                        try await browser.waitForScreen("confirm", timeout: 60)
                    }
                    try await browser.send(["op": "switch", "index": 0])
                    try await browser.click("#update")
                    try await browser.waitForScreen("completed")
                    try await browser.send(["op": "switch", "index": 1])
                    try await browser.click("#update")
                    let refused = try await browser.waitForMessage()
                    let refusal = try await browser.text("#message")
                    #expect(refused == "noSession", "\(refusal)")
                    #expect(refusal.contains("log in again"))
                    #expect(try await browser.screen() == "login")
                    try await browser.screenshot("11-second-tab-refused")
                }
                let after = try #require(try await store.registration(bench.registered.id))
                #expect(after.version == before.version + 1, "exactly one change was stored")
                let active = after.bindings.filter { $0.status(at: Date()) == .active }
                #expect(active.count == 1)
                #expect(after.bindings.count == before.bindings.count + 1)
            }
        }

        @Test("the operator's page: a wrong token is refused, the right one lists the outbox (GEPS連携, 完了メール)")
        func operatorPage() async throws {
            try await Self.withPortal(answers: []) { _, _, browser, origin in
                try await browser.open(origin + "/operator")
                try await browser.evaluate("document.getElementById('token').value = 'wrong'")
                try await browser.click("#show-outbox")
                #expect(try await browser.waitForMessage() == "operatorTokenRequired")
                try await browser.evaluate(
                    "document.getElementById('token').value = '\(Self.operatorToken)'")
                try await browser.click("#show-outbox")
                try await browser.wait("document.body.dataset.loaded === 'true'")
                let table = try await browser.text("#outbox")
                #expect(table.contains("GEPS連携"))
                #expect(table.contains("送信待ち"))
                #expect(try await browser.text("#summary").contains("件"))
                try await browser.screenshot("15-operator-outbox")
            }
        }

        @Test("a wrong PIN: the page says the tries left; the next try logs in")
        func wrongPIN() async throws {
            try await Self.withPortal(answers: ["pin WRONG-PIN-0000", "pin \(Self.currentPIN)"]) {
                bench, _, browser, origin in
                try await TestBench.withCard(bench.current, slot: Self.slot) { _, _, _ in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.click("#login")
                    #expect(try await browser.waitForMessage() == "wrongPIN")
                    let message = try await browser.text("#message")
                    #expect(message.contains("PINが正しくありません"))
                    #expect(message.contains("残り"))
                    #expect(!message.contains("WRONG-PIN-0000"))
                    try await browser.screenshot("08-wrong-pin")
                    try await browser.click("#login")
                    try await browser.waitForScreen("registration")
                }
            }
        }

        @Test("a card pulled while its PIN is asked: the page says so; put back, the login works")
        func pulledCard() async throws {
            try await Self.withPortal(answers: ["slow \(Self.currentPIN)", "pin \(Self.currentPIN)"]) {
                bench, _, browser, origin in
                try await TestBench.withCard(bench.current, slot: Self.slot) { server, context, reader in
                    try await browser.open(origin + "/")
                    try await browser.waitForScreen("login")
                    try await browser.click("#login")
                    try await Task.sleep(for: .milliseconds(700))
                    await server.remove()
                    #expect(try await browser.waitForMessage() == "cardRemoved")
                    #expect(try await browser.text("#message").contains("ICカードが取り出されました"))
                    try await browser.screenshot("09-card-pulled")
                    try await TestBench.waitUntil(context: context, reader: reader, present: false)
                    try await server.insert(bench.current)
                    try await TestBench.waitUntil(context: context, reader: reader, present: true)
                    try await browser.click("#login")
                    try await browser.waitForScreen("registration")
                }
            }
        }

        @Test("Local Network Access denied: the page says the agent cannot be reached and what to do")
        func accessDenied() async throws {
            try await Self.withPortal(answers: [], grant: false) { bench, _, browser, origin in
                try await browser.open(origin + "/")
                try await browser.waitForScreen("login")
                try await browser.wait("document.getElementById('agent-status').dataset.state === 'unreachable'")
                try await browser.click("#login")
                #expect(try await browser.waitForMessage() == "agentUnreachable")
                let message = try await browser.text("#message")
                #expect(message.contains("カードエージェントに接続できません"))
                #expect(message.contains("ローカルネットワークへのアクセス"))
                try await browser.screenshot("10-local-network-denied")
                _ = bench
            }
        }

        @Test("a page of another origin (allowed to reach loopback) is refused by the agent itself")
        func foreignOrigin() async throws {
            let log = FileManager.default.temporaryDirectory.appending(path: "agent-\(UUID().uuidString).log")
            defer { try? FileManager.default.removeItem(at: log) }
            try await Self.withPortal(answers: [], agentLog: log) { _, agent, browser, origin in
                // The same pages from http://localhost:PORT: another origin, granted Local Network Access too.
                let foreign = origin.replacingOccurrences(of: "127.0.0.1", with: "localhost")
                try await browser.open(foreign + "/")
                try await browser.waitForScreen("login")
                let answer = try await browser.evaluate(
                    "fetch('http://127.0.0.1:\(agent.port)/v1/cards').then(r => 'status ' + r.status, e => 'failed: ' + e)"
                )
                #expect(answer as? String == "failed: TypeError: Failed to fetch")
                // It reached the agent, which refused it (no CORS header, so the page cannot read why).
                let expected = "origin=\(foreign) path=/v1/cards status=403"
                var lines = ""
                for _ in 0..<50 {
                    lines = try String(contentsOf: log, encoding: .utf8)
                    if lines.contains(expected) { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(lines.contains(expected), "\(lines)")
                // The portal's own page is answered.
                try await browser.open(origin + "/")
                try await browser.wait("document.getElementById('agent-status').dataset.state === 'ready'")
            }
        }
    }
}

/// Headless Chromium, commanded through Fixtures/browser-bridge.py (Selenium from PyPI in a venv of the test
/// bench: `$PI_SELENIUM_PYTHON`, else /opt/procurement-identity/selenium/bin/python).
final class BrowserBridge: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appending(path: "Fixtures/browser-bridge.py").path
    static let python =
        ProcessInfo.processInfo.environment["PI_SELENIUM_PYTHON"] ?? "/opt/procurement-identity/selenium/bin/python"
    static var isAvailable: Bool {
        [python, "/usr/bin/chromium", "/usr/bin/chromedriver"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
    /// Where the screenshots go.
    static let outputDirectory: URL = {
        if let base = ProcessInfo.processInfo.environment["PI_TEST_OUTPUT"] {
            return URL(fileURLWithPath: base).appending(path: "browser")
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: ".build/test-output/browser")
    }()

    private let process: Process
    private let input: FileHandle
    private let output: FileHandle
    private var buffer = Data()

    private init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script]
        let inputPipe = Pipe()
        let outputPipe = Pipe()
        process.standardInput = inputPipe
        process.standardOutput = outputPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        input = inputPipe.fileHandleForWriting
        output = outputPipe.fileHandleForReading
    }

    /// Chromium with `public` addresses counting as public and `grant` origins given Local Network Access.
    static func start(public addresses: [String], grant: [String]) async throws -> BrowserBridge {
        try #require(isAvailable, "Chromium, chromedriver or Selenium is missing: run Scripts/setup-test-bench")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let bridge = try BrowserBridge()
        let command: [String: Any] = ["op": "start", "public": addresses, "grant": grant]
        try await bridge.send(command)
        return bridge
    }

    /// Sends one command and reads its answer line; a failure is recorded with the bridge's sentence.
    @discardableResult
    func send(_ command: [String: Any]) async throws -> Any? {
        let line = try JSONSerialization.data(withJSONObject: command) + Data("\n".utf8)
        input.write(line)
        let answer: Data = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                while true {
                    if let newline = self.buffer.firstIndex(of: 0x0A) {
                        let line = self.buffer[..<newline]
                        self.buffer = Data(self.buffer[(newline + 1)...])
                        continuation.resume(returning: Data(line))
                        return
                    }
                    let chunk = self.output.availableData
                    if chunk.isEmpty {
                        continuation.resume(throwing: CocoaError(.fileReadUnknown))
                        return
                    }
                    self.buffer += chunk
                }
            }
        }
        let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
        guard object?["ok"] as? Bool == true else {
            let error = object?["error"] as? String ?? String(decoding: answer, as: UTF8.self)
            Issue.record("the browser: \(error)")
            throw CancellationError()
        }
        return object?["value"]
    }

    func open(_ url: String) async throws { try await send(["op": "open", "url": url]) }
    func click(_ selector: String) async throws { try await send(["op": "click", "selector": selector]) }
    /// Sets the value of the input at `selector`, as typing into it would.
    func setValue(_ selector: String, _ value: String) async throws {
        let quoted = String(decoding: try JSONEncoder().encode([selector, value]), as: UTF8.self)
        try await send([
            "op": "eval", "expression": "((s, v) => { document.querySelector(s).value = v; })(...\(quoted))",
        ])
    }
    func screenshot(_ name: String) async throws {
        try await send(["op": "screenshot", "path": Self.outputDirectory.appending(path: "\(name).png").path])
    }
    @discardableResult
    func wait(_ expression: String, timeout: Int = 30) async throws -> Any? {
        try await send(["op": "wait", "expression": expression, "timeout": timeout])
    }
    @discardableResult
    func evaluate(_ expression: String) async throws -> Any? {
        try await send(["op": "eval", "expression": expression])
    }
    /// Waits until the page shows `screen` and, when `idle`, has no action in progress.
    func waitForScreen(_ screen: String, idle: Bool = true, timeout: Int = 30) async throws {
        try await wait(
            "document.body.dataset.screen === '\(screen)'" + (idle ? " && !document.body.dataset.busy" : ""),
            timeout: timeout)
    }
    func screen() async throws -> String? {
        try await evaluate("document.body.dataset.screen") as? String
    }
    /// Waits until the page shows an error message and answers its code.
    func waitForMessage(timeout: Int = 30) async throws -> String? {
        try await wait(
            "!document.getElementById('message').hidden && document.getElementById('message').dataset.kind === 'error'"
                + " && !document.body.dataset.busy && document.getElementById('message').dataset.code",
            timeout: timeout) as? String
    }
    func text(_ selector: String) async throws -> String {
        try await evaluate("document.querySelector('\(selector)').innerText") as? String ?? ""
    }

    func quit() {
        if process.isRunning {
            input.write(Data((#"{"op": "quit"}"# + "\n").utf8))
            let deadline = Date() + 10
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { process.terminate() }
        }
    }
}
