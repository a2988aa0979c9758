import Foundation
import Testing

@testable import Registration

@Suite("Delivery: MailMessage encoding")
struct DeliveryMailMessageTests {
    static let subject = "[重要]利用者更新完了通知"

    static func completionMail(subject: String = subject, body: String = "本文") throws(RegistrationError)
        -> MailMessage
    {
        try MailMessage(
            from: try MailAddress("noreply@portal.example.go.jp"), fromName: "調達ポータル",
            to: [try MailAddress("taro@example.co.jp")], subject: subject, body: body,
            idempotencyKey: "0B5C9E1A-0000-4000-8000-000000000001/mail",
            date: Date(timeIntervalSince1970: 1_795_476_516))
    }

    /// Decodes one `=?UTF-8?B?…?=` word (checked by hand, not by the code under test).
    static func decodeWord(_ word: Substring) throws -> [UInt8] {
        #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
        let inner = word.dropFirst(10).dropLast(2)
        return Array(try #require(Data(base64Encoded: String(inner))))
    }

    static func headerLines(_ bytes: [UInt8]) throws -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let head = try #require(text.range(of: "\r\n\r\n"))
        return text[..<head.lowerBound].components(separatedBy: "\r\n")
    }

    /// The value of one header, unfolded (continuation lines joined with their leading space).
    static func header(_ name: String, in bytes: [UInt8]) throws -> [String] {
        let lines = try headerLines(bytes)
        let start = try #require(lines.firstIndex { $0.hasPrefix(name + ": ") })
        var result = [String(lines[start].dropFirst(name.count + 2))]
        var next = start + 1
        while next < lines.count, lines[next].hasPrefix(" ") {
            result.append(String(lines[next].dropFirst()))
            next += 1
        }
        return result
    }

    @Test func base64MatchesFoundation() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(String(decoding: MIMEEncoding.base64(bytes), as: UTF8.self) == Data(bytes).base64EncodedString())
        }
    }

    @Test func completionMailHasTheHeadersOfAJapaneseMail() throws {
        let bytes = try Self.completionMail().rfc5322Bytes()
        let lines = try Self.headerLines(bytes)
        #expect(lines.contains("Date: Tue, 24 Nov 2026 08:28:36 +0900"))
        #expect(lines.contains("To: taro@example.co.jp"))
        #expect(lines.contains("Message-ID: <0B5C9E1A-0000-4000-8000-000000000001.mail@portal.example.go.jp>"))
        #expect(lines.contains("MIME-Version: 1.0"))
        #expect(lines.contains("Content-Type: text/plain; charset=UTF-8"))
        #expect(lines.contains("Content-Transfer-Encoding: base64"))
        let subject = try Self.header("Subject", in: bytes)
        let decoded = try subject.flatMap { try Self.decodeWord(Substring($0)) }
        #expect(String(decoding: decoded, as: UTF8.self) == Self.subject)
        let from = try Self.header("From", in: bytes).joined(separator: " ")
        #expect(from.hasSuffix(" <noreply@portal.example.go.jp>"))
        let name = try #require(from.split(separator: " ").first)
        #expect(String(decoding: try Self.decodeWord(name), as: UTF8.self) == "調達ポータル")
        // Every byte is ASCII, every line ends with CRLF and is at most 78 characters.
        #expect(bytes.allSatisfy { $0 < 0x80 })
        #expect(bytes.suffix(2) == [0x0D, 0x0A])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    }

    @Test(arguments: [
        "[重要]利用者更新完了通知",
        String(repeating: "電子調達システム", count: 12),
        "調達ポータル👨‍👩‍👧‍👦利用者情報変更完了のお知らせ（代表者）🇯🇵" + String(repeating: "ｱｲｳ", count: 20),
        "a" + String(repeating: "é", count: 70) + "😀",
        String(repeating: "👨‍👩‍👧‍👦", count: 4),
    ])
    func longSubjectsSplitOnCharacterBoundaries(subject: String) throws {
        let bytes = try Self.completionMail(subject: subject).rfc5322Bytes()
        let words = try Self.header("Subject", in: bytes)
        if subject.utf8.count > 60 { #expect(words.count >= 2) }
        var all: [UInt8] = []
        for (index, word) in words.enumerated() {
            #expect(word.utf8.count <= 75, "encoded word \(index) has \(word.utf8.count) characters")
            let lineLength = (index == 0 ? "Subject: ".count : 1) + word.utf8.count
            #expect(lineLength <= 76)
            let decoded = try Self.decodeWord(Substring(word))
            // Each word holds whole UTF-8 sequences: it decodes on its own.
            #expect(String(validating: decoded, as: UTF8.self) != nil, "word \(index) ends inside a character")
            all += decoded
        }
        #expect(String(decoding: all, as: UTF8.self) == subject)
    }

    @Test func plainASCIISubjectIsWrittenAsItIs() throws {
        let bytes = try Self.completionMail(subject: "Registration complete").rfc5322Bytes()
        #expect(try Self.header("Subject", in: bytes) == ["Registration complete"])
        let tricky = try Self.completionMail(subject: "=?UTF-8?B?Zm9v?=").rfc5322Bytes()
        #expect(try Self.header("Subject", in: tricky) != ["=?UTF-8?B?Zm9v?="])
    }

    @Test func bodyLineBreaksBecomeCRLFAndBase64LinesAre76() throws {
        let body = "利用者情報の変更が完了しました。\n.から始まる行\r\r\n" + String(repeating: "長い行", count: 60) + "\n"
        let bytes = try Self.completionMail(body: body).rfc5322Bytes()
        let text = String(decoding: bytes, as: UTF8.self)
        let head = try #require(text.range(of: "\r\n\r\n"))
        let bodyLines = text[head.upperBound...].components(separatedBy: "\r\n").dropLast()
        #expect(bodyLines.dropLast().allSatisfy { $0.utf8.count == 76 })
        let decoded = try #require(Data(base64Encoded: bodyLines.joined()))
        #expect(
            String(decoding: decoded, as: UTF8.self)
                == "利用者情報の変更が完了しました。\r\n.から始まる行\r\n\r\n" + String(repeating: "長い行", count: 60) + "\r\n")
    }

    @Test(arguments: ["件名\r\nBcc: victim@example.com", "件名\nX: y", "件名\r", "tab\there", "esc\u{1B}"])
    func lineBreaksInHeadersAreRefused(subject: String) throws {
        #expect(throws: RegistrationError.self) { try Self.completionMail(subject: subject) }
        var named = try Self.completionMail()
        named.fromName = subject
        #expect(throws: RegistrationError.self) { try named.rfc5322Bytes() }
        do {
            _ = try Self.completionMail(subject: subject)
        } catch {
            guard case .invalidField(let field, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(field.contains("Subject"))
        }
    }

    @Test func aMailDecodedFromJSONIsCheckedAgainWhenWritten() throws {
        var json = String(decoding: try JSONEncoder().encode(try Self.completionMail(subject: "SAFE")), as: UTF8.self)
        json = json.replacingOccurrences(of: "SAFE", with: "x\\r\\nBcc: victim@example.com")
        let decoded = try JSONDecoder().decode(MailMessage.self, from: Data(json.utf8))
        #expect(throws: RegistrationError.self) { try decoded.rfc5322Bytes() }

        var forged = try Self.completionMail()
        forged.to = []
        #expect(throws: RegistrationError.self) { try forged.rfc5322Bytes() }
        for bad in ["no-at-sign", "<two@at@signs>", "<@example.jp>", "<left@>", "<sp ace@example.jp>", "<a<b@c.jp>"] {
            forged = try Self.completionMail()
            forged.messageID = bad
            #expect(throws: RegistrationError.self, "\(bad)") { try forged.rfc5322Bytes() }
        }
        forged = try Self.completionMail()
        forged.messageID = "X123.0@portal.example.jp"
        #expect(try Self.header("Message-ID", in: try forged.rfc5322Bytes()) == ["<X123.0@portal.example.jp>"])
        // An address decoded from JSON skips MailAddress's checks; writing catches it.
        let address = String(decoding: try JSONEncoder().encode(try MailAddress("a@example.jp")), as: UTF8.self)
        let injected = address.replacingOccurrences(of: "a@example.jp", with: "a@example.jp>\\r\\nRCPT TO:<b@x.jp")
        forged = try Self.completionMail()
        forged.to = [try JSONDecoder().decode(MailAddress.self, from: Data(injected.utf8))]
        #expect(throws: RegistrationError.self) { try forged.rfc5322Bytes() }
    }

    @Test func codableRoundTripsWithDefaultStrategies() throws {
        let mail = try Self.completionMail()
        let data = try JSONEncoder().encode(mail)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["date"] is Double || object["date"] is NSNumber)
        #expect(try JSONDecoder().decode(MailMessage.self, from: data) == mail)
    }

    @Test func messageIDIsDerivedFromTheIdempotencyKey() {
        #expect(
            MailMessage.messageID(idempotencyKey: "ABC/mail", domain: "portal.example.go.jp")
                == "<ABC.mail@portal.example.go.jp>")
        #expect(MailMessage.messageID(idempotencyKey: "a b<c>/mail", domain: "x.jp") == "<a-b-c-.mail@x.jp>")
    }
}
