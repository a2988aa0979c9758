import CardCredentials
import Foundation
import Testing

@testable import Registration

/// The SMTP client's transport security against a real server (aiosmtpd with Python's TLS) on loopback, with a
/// test CA made by `openssl` for each test: credentials never cross the network in clear.
@Suite("Delivery: SMTP over TLS (STARTTLS, implicit TLS) against a real SMTP server", .serialized)
struct DeliverySMTPTLSTests {
    static let password = "correct horse"
    /// `AUTH PLAIN`'s base64 of NUL portal NUL correct horse.
    static let encodedPassword = Data("\0portal\0\(password)".utf8).base64EncodedString()

    static func credentials() throws -> SMTPCredentials {
        SMTPCredentials(username: "portal", password: try SecretPIN(password, policy: .password()))
    }

    /// The `mailServerUnreachable` reason of `error`, recording an issue for anything else.
    static func unreachableReason(_ error: RegistrationError?) -> String? {
        guard case .mailServerUnreachable(let reason) = error else {
            Issue.record("expected mailServerUnreachable, got \(String(describing: error))")
            return nil
        }
        return reason
    }

    @Test func startTLSThenAuthAndDeliveryAllOverTLS() async throws {
        let pki = try DeliveryTestPKI.make()
        defer { pki.remove() }
        let smtp = try await DeliverySMTPServer.start(
            ["--starttls", "--auth", "portal:\(Self.password)"] + pki.localhost.arguments)
        defer { smtp.stop() }
        try await smtp.transport(
            credentials: try Self.credentials(), security: .startTLS, host: "localhost", trustedCAFile: pki.trustedCA
        ).send(try DeliverySMTPTests.mail())

        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.decoded(names[0]).authenticated == true)
        #expect(try smtp.decoded(names[0]).subject == "[重要]利用者更新完了通知")
        // In clear: EHLO and STARTTLS, nothing else; then EHLO again, AUTH and the mail over TLS.
        #expect(try smtp.clearText() == "EHLO portal.test\r\nSTARTTLS\r\n")
        let encrypted = try smtp.wire().filter(\.tls).map(\.data).joined()
        #expect(encrypted.hasPrefix("EHLO portal.test\r\nAUTH PLAIN \(Self.encodedPassword)\r\nMAIL FROM:"))
    }

    @Test func implicitTLSOnItsOwnPortVerifiesAnAddressLiteral() async throws {
        let pki = try DeliveryTestPKI.make()
        defer { pki.remove() }
        let smtp = try await DeliverySMTPServer.start(
            ["--implicit-tls", "--auth", "portal:\(Self.password)"] + pki.localhost.arguments)
        defer { smtp.stop() }
        // 127.0.0.1: the certificate's IP address entry is checked (and no SNI is sent for an address).
        try await smtp.transport(
            credentials: try Self.credentials(), security: .implicitTLS, host: "127.0.0.1",
            trustedCAFile: pki.trustedCA
        ).send(try DeliverySMTPTests.mail())

        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.decoded(names[0]).authenticated == true)
        let wire = try smtp.wire()
        #expect(!wire.isEmpty && wire.allSatisfy(\.tls), "every byte went over TLS")
        // A plain client speaking SMTP to the TLS port gets nowhere.
        let plain = await deliveryError { () async throws(RegistrationError) in
            try await smtp.transport(timeout: .seconds(2)).send(try DeliverySMTPTests.mail())
        }
        #expect(Self.unreachableReason(plain) != nil)
        #expect(try smtp.received().count == 1)
    }

    @Test func certificateFromAnUntrustedCAIsRefusedBeforeAnyCredential() async throws {
        let pki = try DeliveryTestPKI.make()
        defer { pki.remove() }
        let smtp = try await DeliverySMTPServer.start(
            ["--starttls", "--auth", "portal:\(Self.password)"] + pki.untrusted.arguments)
        defer { smtp.stop() }
        let credentials = try Self.credentials()
        for trusted in [pki.trustedCA, nil] {
            let error = await deliveryError { () async throws(RegistrationError) in
                try await smtp.transport(
                    credentials: credentials, security: .startTLS, host: "localhost",
                    trustedCAFile: trusted
                ).send(try DeliverySMTPTests.mail())
            }
            let reason = try #require(Self.unreachableReason(error))
            #expect(reason.contains("certificate of localhost:\(smtp.server.port) did not verify"), "\(reason)")
            #expect(reason.contains("unable to get local issuer certificate"), "\(reason)")
            let refusal = try #require(error)
            #expect(refusal.isRetryable)
            #expect(!refusal.description.contains(Self.password))
        }
        #expect(try smtp.received().isEmpty)
        #expect(!(try smtp.wire().map(\.data).joined().contains("AUTH")), "no credential was sent")
    }

    @Test func certificateForAnotherHostNameIsRefused() async throws {
        let pki = try DeliveryTestPKI.make()
        defer { pki.remove() }
        let smtp = try await DeliverySMTPServer.start(
            ["--implicit-tls", "--auth", "portal:\(Self.password)"] + pki.otherName.arguments)
        defer { smtp.stop() }
        let credentials = try Self.credentials()
        let error = await deliveryError { () async throws(RegistrationError) in
            try await smtp.transport(
                credentials: credentials, security: .implicitTLS, host: "localhost",
                trustedCAFile: pki.trustedCA
            ).send(try DeliverySMTPTests.mail())
        }
        let reason = try #require(Self.unreachableReason(error))
        #expect(reason.contains("did not verify (hostname mismatch)"), "\(reason)")
        #expect(try smtp.received().isEmpty)
        #expect(try smtp.wire().isEmpty, "nothing was sent over the untrusted connection")
    }

    @Test func serverWithoutSTARTTLSIsRefusedAndNothingGoesInClear() async throws {
        // This server would take AUTH PLAIN and the mail in clear.
        let smtp = try await DeliverySMTPServer.start(["--auth", "portal:\(Self.password)"])
        defer { smtp.stop() }
        for credentials in [try Self.credentials(), nil] {
            let error = await deliveryError { () async throws(RegistrationError) in
                try await smtp.transport(credentials: credentials, security: .startTLS)
                    .send(try DeliverySMTPTests.mail())
            }
            let reason = try #require(Self.unreachableReason(error))
            #expect(reason.contains("does not offer STARTTLS"), "\(reason)")
        }
        #expect(try smtp.received().isEmpty)
        let clear = try smtp.clearText()
        #expect(clear == "EHLO portal.test\r\nQUIT\r\n" + "EHLO portal.test\r\nQUIT\r\n", "\(clear)")
        #expect(!clear.contains(Self.encodedPassword))
    }

    @Test func plainAuthenticationOnlyWithTheExplicitAllowance() async throws {
        let smtp = try await DeliverySMTPServer.start(["--auth", "portal:\(Self.password)"])
        defer { smtp.stop() }
        let credentials = try Self.credentials()
        let refused = await deliveryError { () async throws(RegistrationError) in
            try await smtp.transport(credentials: credentials, security: .plain)
                .send(try DeliverySMTPTests.mail())
        }
        let reason = try #require(Self.unreachableReason(refused))
        #expect(reason.contains("without TLS"), "\(reason)")
        #expect(!reason.contains(Self.password))
        #expect(try smtp.wire().isEmpty, "the connection was not even made")
        #expect(try smtp.received().isEmpty)

        try await smtp.transport(
            credentials: try Self.credentials(), security: .plain, allowPlaintextAuthentication: true
        ).send(try DeliverySMTPTests.mail())
        let names = try smtp.received()
        try #require(names.count == 1)
        #expect(try smtp.decoded(names[0]).authenticated == true)
        #expect(try smtp.clearText().contains("AUTH PLAIN \(Self.encodedPassword)\r\n"))
    }

    @Test func timeoutsHoldOverTLS() async throws {
        let pki = try DeliveryTestPKI.make()
        defer { pki.remove() }
        // The server completes the TLS handshake, then never sends its greeting.
        let silent = try await DeliverySMTPServer.start(["--implicit-tls", "--silent"] + pki.localhost.arguments)
        defer { silent.stop() }
        let clock = ContinuousClock()
        let started = clock.now
        let error = await deliveryError { () async throws(RegistrationError) in
            try await silent.transport(
                timeout: .milliseconds(700), security: .implicitTLS, trustedCAFile: pki.trustedCA
            ).send(try DeliverySMTPTests.mail())
        }
        let reason = try #require(Self.unreachableReason(error))
        #expect(reason.contains("did not answer within"), "\(reason)")
        #expect(reason.contains("reading"), "the handshake was done; the greeting never came: \(reason)")
        #expect(started.duration(to: clock.now) < .seconds(5))

        // A server that takes the connection and never answers the ClientHello.
        let mute = try await DeliverySMTPServer.start(["--silent"])
        defer { mute.stop() }
        let handshake = await deliveryError { () async throws(RegistrationError) in
            try await mute.transport(timeout: .milliseconds(700), security: .implicitTLS).send(
                try DeliverySMTPTests.mail())
        }
        let handshakeReason = try #require(Self.unreachableReason(handshake))
        #expect(handshakeReason.contains("did not answer within"), "\(handshakeReason)")
        #expect(handshakeReason.contains("TLS handshake"), "\(handshakeReason)")
    }
}
