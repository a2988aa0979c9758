public import Foundation

/// A plain-text mail (such as the completion mail `[重要]利用者更新完了通知`), ready to be written as RFC 5322
/// bytes and handed to a ``MailTransport``.
///
/// The mail is written as Japanese systems send it today: UTF-8 text, the body in base64, the subject and a
/// non-ASCII sender name as RFC 2047 encoded words. Its `Codable` form is the synthesized one (dates as
/// `JSONEncoder`'s default, a number), which is how the outbox keeps a mail's payload.
///
/// ```swift
/// let mail = try MailMessage(
///     from: try MailAddress("noreply@portal.example.go.jp"), fromName: "調達ポータル",
///     to: [user.information.mail], subject: "[重要]利用者更新完了通知", body: text,
///     idempotencyKey: message.idempotencyKey, date: now)
/// ```
///
/// Header injection is impossible: a CR or LF in the subject, the sender's name or the Message-ID is refused with
/// ``RegistrationError/invalidField(field:reason:)``, both when the mail is made and when it is written (a mail
/// decoded from JSON is checked again).
public struct MailMessage: Sendable, Hashable, Codable {
    /// The sender's address (the envelope's `MAIL FROM` and the `From` header).
    public var from: MailAddress
    /// The sender's display name, if any (e.g. `調達ポータル`).
    public var fromName: String?
    /// The recipients (the envelope's `RCPT TO`s and the `To` header); at least one.
    public var to: [MailAddress]
    /// The subject, one line.
    public var subject: String
    /// The text; any line breaks (LF, CR or CRLF) are sent as CRLF.
    public var body: String
    /// The Message-ID, e.g. `<0b5c….mail@portal.example.go.jp>` (the angle brackets may be left out; the header
    /// always has them): unique per mail, and the same on every retry of one outbox message.
    public var messageID: String
    /// The date of the `Date` header.
    public var date: Date

    /// A mail, checked.
    ///
    /// - Throws: ``RegistrationError/invalidField(field:reason:)`` when there is no recipient, or the subject, the
    ///   sender's name or the Message-ID has a line break or another control character, or the Message-ID is not
    ///   of the form `left@right` (with or without angle brackets).
    public init(
        from: MailAddress, fromName: String? = nil, to: [MailAddress], subject: String, body: String,
        messageID: String, date: Date
    ) throws(RegistrationError) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.body = body
        self.messageID = messageID
        self.date = date
        try validate()
    }

    /// A mail whose Message-ID is derived from an outbox message's idempotency key, so every retry of that message
    /// carries the same Message-ID (receivers and their filters can drop the duplicates of an at-least-once
    /// delivery).
    ///
    /// - Throws: ``RegistrationError/invalidField(field:reason:)`` as ``init(from:fromName:to:subject:body:messageID:date:)``.
    public init(
        from: MailAddress, fromName: String? = nil, to: [MailAddress], subject: String, body: String,
        idempotencyKey: String, date: Date
    ) throws(RegistrationError) {
        try self.init(
            from: from, fromName: fromName, to: to, subject: subject, body: body,
            messageID: Self.messageID(idempotencyKey: idempotencyKey, domain: String(from.domain)), date: date)
    }

    /// The Message-ID for an idempotency key: `<key@domain>`, with `/` turned into `.` and any character a
    /// Message-ID may not hold turned into `-`.
    public static func messageID(idempotencyKey: String, domain: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-=?^_`{|}~.".utf8)
        let left = idempotencyKey.utf8.map { byte -> Character in
            if byte == UInt8(ascii: "/") { return "." }
            return allowed.contains(byte) ? Character(UnicodeScalar(byte)) : "-"
        }
        return "<\(String(left))@\(domain)>"
    }

    /// Checks the mail again (a mail decoded from JSON skipped the initializer's checks).
    ///
    /// - Throws: ``RegistrationError/invalidField(field:reason:)``.
    public func validate() throws(RegistrationError) {
        guard !to.isEmpty else {
            throw .invalidField(field: "宛先 (To)", reason: "the mail has no recipient")
        }
        for address in [from] + to where (try? MailAddress(address.text)) != address {
            throw .invalidField(field: "メールアドレス", reason: "\(address.text.debugDescription) is not a mail address")
        }
        try Self.checkHeaderText(subject, field: "件名 (Subject)")
        if let fromName { try Self.checkHeaderText(fromName, field: "差出人名 (From name)") }
        try Self.checkHeaderText(messageID, field: "Message-ID")
        let inner = Self.messageIDWithoutBrackets(messageID)
        let parts = inner.split(separator: "@", omittingEmptySubsequences: false)
        guard messageID.utf8.count <= 250, parts.count == 2, parts.allSatisfy({ !$0.isEmpty }),
            inner.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else {
            throw .invalidField(
                field: "Message-ID", reason: "it must have the form left@right (or <left@right>) in ASCII, no spaces")
        }
    }

    /// The Message-ID without its angle brackets, when it has both.
    private static func messageIDWithoutBrackets(_ id: String) -> Substring {
        id.hasPrefix("<") && id.hasSuffix(">") && id.count >= 2 ? id.dropFirst().dropLast() : Substring(id)
    }

    private static func checkHeaderText(_ text: String, field: String) throws(RegistrationError) {
        guard !text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw .invalidField(field: field, reason: "it has a line break (CR or LF), which a mail header cannot hold")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field: field, reason: "it has a control character (a tab or an escape)")
        }
    }

    /// The mail as RFC 5322 bytes: CRLF lines, the headers `Date` (Japan time, `+0900`), `From`, `To`,
    /// `Subject`, `Message-ID`, `MIME-Version`, `Content-Type: text/plain; charset=UTF-8`,
    /// `Content-Transfer-Encoding: base64`, an empty line, and the body in base64 lines of 76 characters.
    ///
    /// The bytes end with CRLF and hold no line longer than 78 characters, so SMTP's dot-stuffing never changes
    /// them (base64 has no dot) and any relay passes them unchanged.
    ///
    /// - Throws: ``RegistrationError/invalidField(field:reason:)`` when ``validate()`` fails.
    public func rfc5322Bytes() throws(RegistrationError) -> [UInt8] {
        try validate()
        var header: [String] = []
        header.append("Date: " + Self.rfc5322Date(date))
        header.append("From: " + mailbox(name: fromName, address: from, used: "From: ".count))
        header.append("To: " + addressList(to, used: "To: ".count))
        header.append("Subject: " + Self.unstructured(subject, used: "Subject: ".count))
        header.append("Message-ID: <\(Self.messageIDWithoutBrackets(messageID))>")
        header.append("MIME-Version: 1.0")
        header.append("Content-Type: text/plain; charset=UTF-8")
        header.append("Content-Transfer-Encoding: base64")
        var bytes = Array((header.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        bytes += MIMEEncoding.base64Lines(Array(MIMEEncoding.normalizingLineBreaks(body).utf8))
        return bytes
    }

    // MARK: - Headers

    private static func unstructured(_ text: String, used: Int) -> String {
        if MIMEEncoding.isPlainHeaderText(text), used + text.utf8.count <= 78, !text.contains("=?") {
            return text
        }
        return MIMEEncoding.encodedWords(text, firstLineUsed: used)
    }

    private func mailbox(name: String?, address: MailAddress, used: Int) -> String {
        guard let name, !name.isEmpty else { return address.text }
        let phrase: String
        if MIMEEncoding.isPlainHeaderText(name), !name.contains("=?") {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            phrase = "\"\(escaped)\""
        } else {
            phrase = MIMEEncoding.encodedWords(name, firstLineUsed: used)
        }
        let lastLine = phrase.components(separatedBy: "\r\n").last ?? phrase
        let sameLine = (phrase.contains("\r\n") ? 0 : used) + lastLine.utf8.count + 3 + address.text.utf8.count <= 78
        return phrase + (sameLine ? " " : "\r\n ") + "<\(address.text)>"
    }

    private func addressList(_ addresses: [MailAddress], used: Int) -> String {
        var result = ""
        var column = used
        for (index, address) in addresses.enumerated() {
            let piece = address.text + (index < addresses.count - 1 ? "," : "")
            if index > 0 {
                if column + 1 + piece.utf8.count > 78 {
                    result += "\r\n "
                    column = 1
                } else {
                    result += " "
                    column += 1
                }
            }
            result += piece
            column += piece.utf8.count
        }
        return result
    }

    /// `date` as RFC 5322 §3.3 writes it, in Japan Standard Time: `Mon, 23 Nov 2026 21:28:36 +0900`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 9 * 3600) ?? .gmt
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        let weekday = weekdays[((parts.weekday ?? 1) - 1 + 7) % 7]
        let month = months[((parts.month ?? 1) - 1 + 12) % 12]
        return "\(weekday), \(two(parts.day)) \(month) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0900"
    }
}
