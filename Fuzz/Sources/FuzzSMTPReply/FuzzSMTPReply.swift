// The SMTP reply reader, through the narrowest seam that needs no change to SMTPMailTransport.swift: a loopback
// server in this process answers the transport's connection with the input as the whole server side of the
// conversation (greeting, EHLO, MAIL, RCPT, DATA replies…), then closes its side; the transport sends a message
// with its public API and parses whatever comes.
import CardCredentials
import Foundation
import FuzzSupport
import Registration

let server = LoopbackServer()

let message: MailMessage? = {
    guard let from = try? MailAddress("noreply@portal.example.jp"), let to = try? MailAddress("taro@example.co.jp")
    else { return nil }
    return try? MailMessage(
        from: from, fromName: "調達ポータル", to: [to], subject: "登録完了のお知らせ", body: "登録が完了しました。\n.\n",
        messageID: "<fuzz@portal.example.jp>", date: Date(timeIntervalSince1970: 1_767_225_600))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let reply = fuzzBytes(start, count)
    guard let server, let message else { return 0 }
    // Half the inputs authenticate (AUTH PLAIN), chosen by the input's length, so both conversations are reached.
    let credentials =
        count % 2 == 1
        ? (try? SecretPIN("secret", policy: .password())).map { SMTPCredentials(username: "portal", password: $0) }
        : nil
    let transport = SMTPMailTransport(
        host: "127.0.0.1", port: server.port, heloName: "portal.example.jp", credentials: credentials,
        timeout: .seconds(5), security: .plain, allowPlaintextAuthentication: true)
    let served = server.serveOne { connection in
        LoopbackServer.write(connection, reply)
        LoopbackServer.finish(connection)
    }
    runBlocking {
        do {
            try await transport.send(message)
        } catch {
            _ = "\(error)"
        }
    }
    served.wait()
    return 0
}
