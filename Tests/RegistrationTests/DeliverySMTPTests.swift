import CardCredentials
import Foundation
import Testing

@testable import Registration

/// What the loopback SMTP server received, as Python's `email` package decoded it.
struct DeliveryReceivedMail: Decodable {
    var mailFrom: String
    var rcptTos: [String]
    var subject: String
    var from: String
    var fromName: String?
    var to: String
    var messageID: String
    var date: String
    var contentType: String
    var charset: String?
    var body: String
    var defects: [String]
    var authenticated: Bool?
}

/// A loopback aiosmtpd server writing what it takes to a folder.
struct DeliverySMTPServer {
    let server: DeliveryFixtureServer
    let maildir: URL

    static func start(_ arguments: [String] = []) async throws -> DeliverySMTPServer {
        let maildir = try deliveryTemporaryFolder()
        let server = try await DeliveryFixtureServer.start("smtp-test-server.py", [maildir.path] + arguments)
        return DeliverySMTPServer(server: server, maildir: maildir)
    }

    /// A client of this server; plain unless told (most tests here are not about TLS).
    func transport(
        credentials: SMTPCredentials? = nil, timeout: Duration = .seconds(10), security: SMTPSecurity = .plain,
        host: String = "127.0.0.1", trustedCAFile: String? = nil, allowPlaintextAuthentication: Bool = false
    ) -> SMTPMailTransport {
        SMTPMailTransport(
            host: host, port: server.port, heloName: "portal.test", credentials: credentials, timeout: timeout,
            security: security, trustedCAFile: trustedCAFile, allowPlaintextAuthentication: allowPlaintextAuthentication
        )
    }

    /// One read of the server from a client, and whether it arrived over TLS.
    struct WireRead: Decodable {
        var tls: Bool
        var data: String
    }

    /// Every byte the server read from clients, in order (see the fixture's wire.jsonl).
    func wire() throws -> [WireRead] {
        let url = maildir.appendingPathComponent("wire.jsonl")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(WireRead.self, from: Data($0.utf8))
        }
    }

    /// What the server read in clear, as one text.
    func clearText() throws -> String { try wire().filter { !$0.tls }.map(\.data).joined() }

    /// The names of the mails received, in order.
    func received() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: maildir.path).filter { $0.hasSuffix(".json") }.sorted()
            .map { String($0.dropLast(5)) }
    }

    func decoded(_ name: String) throws -> DeliveryReceivedMail {
        let data = try Data(contentsOf: maildir.appendingPathComponent(name + ".json"))
        return try JSONDecoder().decode(DeliveryReceivedMail.self, from: data)
    }

    func raw(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: maildir.appendingPathComponent(name + ".eml")))
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: maildir)
    }
}

@Suite("Delivery: SMTP transport against a real SMTP server (aiosmtpd)", .serialized)
struct DeliverySMTPTests {
    static let body = """
        山田 太郎 様

        調達ポータルの利用者情報の更新が完了しました。
        .この行はドットで始まります（ドットスタッフィングの確認）。
        ..二つのドット
        .
        政府電子調達システム（GEPS）への連携も完了しています。
        """

    static func mail(subject: String = DeliveryMailMessageTests.subject, to: [String] = ["taro@example.co.jp"])
        throws(RegistrationError) -> MailMessage
    {
        try MailMessage(
            from: try MailAddress("noreply@portal.example.go.jp"), fromName: "調達ポータル",
            to: try to.map { address throws(RegistrationError) in try MailAddress(address) }, subject: subject,
            body: body, idempotencyKey: "0B5C9E1A-0000-4000-8000-000000000001/mail",
            date: Date(timeIntervalSince1970: 1_795_476_516))
    }

    @Test func completionMailArrivesAndPythonDecodesItExactly() async throws {
        let smtp = try await DeliverySMTPServer.start()
        defer { smtp.stop() }
        try await smtp.transport().send(try Self.mail(to: ["taro@example.co.jp", "hanako@example.co.jp"]))

        let names = try smtp.received()
        try #require(names.count == 1)
        let mail = try smtp.decoded(names[0])
        #expect(mail.subject == "[重要]利用者更新完了通知")
        #expect(mail.body == Self.body.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(mail.body.contains("\r\n.この行はドットで始まります"))
        #expect(mail.body.contains("\r\n..二つのドット\r\n.\r\n"))
        #expect(mail.fromName == "調達ポータル")
        #expect(mail.from == "調達ポータル <noreply@portal.example.go.jp>")
        #expect(mail.mailFrom == "noreply@portal.example.go.jp")
        #expect(mail.rcptTos == ["taro@example.co.jp", "hanako@example.co.jp"])
        #expect(mail.to == "taro@example.co.jp, hanako@example.co.jp")
        #expect(mail.messageID == "<0B5C9E1A-0000-4000-8000-000000000001.mail@portal.example.go.jp>")
        #expect(mail.date == "Tue, 24 Nov 2026 08:28:36 +0900")
        #expect(mail.contentType == "text/plain")
        #expect(mail.charset == "utf-8")
        #expect(mail.defects.isEmpty)
        // The relay received exactly the bytes written (dot-stuffing undone by the server).
        #expect(
            try smtp.raw(names[0])
                == (try Self.mail(to: ["taro@example.co.jp", "hanako@example.co.jp"])
                    .rfc5322Bytes()))
    }

    @Test func longJapaneseSubjectSurvivesTheRoundTrip() async throws {
        let subject = "【調達ポータル】" + String(repeating: "利用者情報変更（代表者・代理人）完了のお知らせ👨‍👩‍👧‍👦", count: 4)
        let smtp = try await DeliverySMTPServer.start()
        defer { smtp.stop() }
        try await smtp.transport().send(try Self.mail(subject: subject))
        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.decoded(names[0]).subject == subject)
        #expect(try smtp.decoded(names[0]).defects.isEmpty)
        let words = try DeliveryMailMessageTests.header("Subject", in: try smtp.raw(names[0]))
        #expect(words.count >= 5)
        #expect(words.allSatisfy { $0.utf8.count <= 75 })
    }

    @Test func dotStuffingKeepsLinesThatStartWithADot() async throws {
        let smtp = try await DeliverySMTPServer.start()
        defer { smtp.stop() }
        // Raw 8-bit text, so the dots reach the SMTP layer (a MailMessage's base64 body has none).
        let raw = Array("Subject: dots\r\n\r\n.one\r\n..two\r\n.\r\nend.\r\n. \r\n".utf8)
        try await smtp.transport().send(
            data: raw, from: try MailAddress("a@portal.test"), to: [try MailAddress("b@portal.test")])
        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.raw(names[0]) == raw)
        #expect(
            SMTPMailTransport.dotStuffed(Array(".a\r\nb\r\n..c\r\n.".utf8)) == Array("..a\r\nb\r\n...c\r\n..\r\n".utf8))
    }

    @Test func headerInjectionIsRefusedBeforeAnythingIsSent() async throws {
        let smtp = try await DeliverySMTPServer.start()
        defer { smtp.stop() }
        var mail = try Self.mail()
        mail.subject = "完了\r\nBcc: everyone@example.com"
        let error = await deliveryError { () async throws(RegistrationError) in try await smtp.transport().send(mail) }
        guard case .invalidField = try #require(error) else {
            Issue.record("expected invalidField, got \(String(describing: error))")
            return
        }
        #expect(try smtp.received().isEmpty)
    }

    @Test func serverNotListeningIsUnreachableAndRetryable() async throws {
        let smtp = try await DeliverySMTPServer.start()
        let transport = smtp.transport()
        smtp.stop()
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in try await transport.send(try Self.mail()) })
        guard case .mailServerUnreachable(let reason) = error else {
            Issue.record("expected mailServerUnreachable, got \(error)")
            return
        }
        #expect(reason.contains("refused"))
        #expect(error.isRetryable)
    }

    @Test func unknownHostIsUnreachable() async throws {
        let transport = SMTPMailTransport(host: "no-such-host.invalid", port: 25, heloName: "portal.test")
        let error = await deliveryError { () async throws(RegistrationError) in
            try await transport.send(try Self.mail())
        }
        guard case .mailServerUnreachable = try #require(error) else {
            Issue.record("expected mailServerUnreachable, got \(String(describing: error))")
            return
        }
    }

    @Test func silentServerTimesOutAsUnreachable() async throws {
        let smtp = try await DeliverySMTPServer.start(["--silent"])
        defer { smtp.stop() }
        let error = await deliveryError { () async throws(RegistrationError) in
            try await smtp.transport(timeout: .milliseconds(500)).send(try Self.mail())
        }
        guard case .mailServerUnreachable(let reason) = try #require(error) else {
            Issue.record("expected mailServerUnreachable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("did not answer"))
    }

    @Test func transient451IsRetryableAndTheRetrySucceeds() async throws {
        let smtp = try await DeliverySMTPServer.start(["--fail-first", "1"])
        defer { smtp.stop() }
        let transport = smtp.transport()
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in try await transport.send(try Self.mail()) })
        guard case .mailRejected(let code, _) = error else {
            Issue.record("expected mailRejected, got \(error)")
            return
        }
        #expect(code == 451)
        #expect(error.isRetryable)
        #expect(try smtp.received().isEmpty)
        try await transport.send(try Self.mail())
        #expect(try smtp.received().count == 1)
    }

    @Test func permanent550IsNotRetryableAndNothingIsSent() async throws {
        let smtp = try await DeliverySMTPServer.start(["--reject", "gone@example.co.jp"])
        defer { smtp.stop() }
        let error = try #require(
            await deliveryError { () async throws(RegistrationError) in
                try await smtp.transport().send(try Self.mail(to: ["taro@example.co.jp", "gone@example.co.jp"]))
            })
        guard case .mailRejected(let code, let message) = error else {
            Issue.record("expected mailRejected, got \(error)")
            return
        }
        #expect(code == 550)
        #expect(message.contains("RCPT TO"))
        #expect(!error.isRetryable)
        #expect(try smtp.received().isEmpty)
    }

    @Test func fallsBackToHELOWhenEHLOIsRefused() async throws {
        let smtp = try await DeliverySMTPServer.start(["--no-ehlo"])
        defer { smtp.stop() }
        try await smtp.transport().send(try Self.mail())
        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.decoded(names[0]).subject == "[重要]利用者更新完了通知")
    }

    @Test func authPlainWithTheRightAndWrongPasswords() async throws {
        let smtp = try await DeliverySMTPServer.start(["--auth", "portal:correct horse"])
        defer { smtp.stop() }
        let right = SMTPCredentials(username: "portal", password: try SecretPIN("correct horse", policy: .password()))
        #expect(!"\(right)".contains("horse"))
        try await smtp.transport(credentials: right, allowPlaintextAuthentication: true).send(try Self.mail())
        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.decoded(names[0]).authenticated == true)

        let wrong = SMTPCredentials(username: "portal", password: try SecretPIN("battery staple", policy: .password()))
        let refused = try #require(
            await deliveryError { () async throws(RegistrationError) in
                try await smtp.transport(credentials: wrong, allowPlaintextAuthentication: true).send(try Self.mail())
            })
        guard case .mailRejected(let code, let message) = refused else {
            Issue.record("expected mailRejected, got \(refused)")
            return
        }
        #expect(code == 535)
        #expect(!refused.isRetryable)
        #expect(!message.contains("staple") && !refused.description.contains("staple"))

        let anonymous = try #require(
            await deliveryError { () async throws(RegistrationError) in
                try await smtp.transport().send(try Self.mail())
            })
        guard case .mailRejected(let anonymousCode, _) = anonymous else {
            Issue.record("expected mailRejected, got \(anonymous)")
            return
        }
        #expect(anonymousCode == 530)
        #expect(try smtp.received().count == 1)
    }
}
