import CardCredentials
import Foundation

/// The messages a committed change writes to the outbox: the hand-over to GEPS (連携) first, then the completion
/// mail `[重要]利用者更新完了通知` to the address on the record, which waits until GEPS has taken the hand-over.
struct Notifications {
    /// The subject of every completion mail (seed 002).
    static let subject = "[重要]利用者更新完了通知"

    let portal: PortalProfile

    /// The GEPS document: what changed, for which business and user, as JSON.
    struct GEPSDocument: Codable {
        var changeID: ChangeID
        var kind: String
        var title: String
        var businessID: BusinessID
        var corporateNumber: String?
        var businessName: String
        var version: Int
        var actor: UserID?
        var committedAt: Date
        var rows: [ReviewRow]
        var users: [GEPSUser]
        var activeCertificates: [GEPSCertificate]
    }

    struct GEPSUser: Codable {
        var id: UserID
        var role: Role
        var name: String
        var status: User.Status
    }

    struct GEPSCertificate: Codable {
        var userID: UserID
        var kind: CredentialKind
        var issuer: String
        var serialNumber: String
        var fingerprint: String
        var notValidAfter: Date
    }

    func outbox(for prepared: PreparedChange, record: ChangeRecord) throws(RegistrationError) -> [OutboxMessage] {
        let after = prepared.after
        let document = GEPSDocument(
            changeID: record.id, kind: record.kind, title: prepared.review.title, businessID: after.id,
            corporateNumber: after.business.corporateNumber?.digits, businessName: after.business.name,
            version: after.version, actor: record.actor, committedAt: record.committedAt, rows: prepared.review.rows,
            users: after.users.map { GEPSUser(id: $0.id, role: $0.role, name: $0.information.name, status: $0.status) },
            activeCertificates: after.bindings.filter { $0.recordedStatus == .active }.map {
                GEPSCertificate(
                    userID: $0.userID, kind: $0.kind, issuer: $0.issuer, serialNumber: $0.serialNumber,
                    fingerprint: $0.fingerprint, notValidAfter: $0.notValidAfter)
            })
        let geps = OutboxMessage(
            changeID: record.id, businessID: after.id, kind: .gepsHandOver,
            payload: try Self.json(document, wireDates: true),
            at: record.committedAt)
        var messages = [geps]
        for (index, recipient) in recipients(of: prepared).enumerated() {
            var message = OutboxMessage(
                changeID: record.id, businessID: after.id, kind: .mail, payload: [], after: geps.id,
                at: record.committedAt)
            if index > 0 { message.idempotencyKey += "/\(index)" }
            let mail = try MailMessage(
                from: portal.mailFrom, fromName: portal.name, to: [recipient.information.mail], subject: Self.subject,
                body: body(to: recipient, prepared: prepared, record: record),
                idempotencyKey: message.idempotencyKey, date: record.committedAt)
            message.payload = try Self.json(mail)
            messages.append(message)
        }
        return messages
    }

    /// Who is told: the user the change is about, at the address on the record after the change (a deleted user
    /// at the address it had); for the business's own records, the representative; for a new agent, the agent and
    /// the representative.
    func recipients(of prepared: PreparedChange) -> [User] {
        let after = prepared.after
        let representative = after.representative
        switch prepared.change {
        case .newRegistration:
            return representative.map { [$0] } ?? []
        case .change(let change):
            var users: [User] = []
            switch change {
            case .addAgent:
                let added = after.users.filter { user in
                    !(prepared.before?.users.contains { $0.id == user.id } ?? false)
                }
                users = added + (representative.map { [$0] } ?? [])
            default:
                if let target = try? Authorization.targetUser(of: change, in: prepared.before ?? after),
                    let user = after.users.first(where: { $0.id == target })
                {
                    users = [user]
                } else {
                    users = representative.map { [$0] } ?? []
                }
            }
            return users
        }
    }

    func body(to user: User, prepared: PreparedChange, record: ChangeRecord) -> String {
        // A new registration (新規登録) is said as 登録, every other change as 更新, as the screens say it.
        let verb: String
        if case .newRegistration = prepared.change { verb = "登録" } else { verb = "更新" }
        var lines = [
            "\(prepared.after.business.name)",
            "\(user.information.name) 様",
            "",
            "\(portal.name)の利用者情報の\(verb)が完了しました。",
            "",
            "  \(verb)内容: \(prepared.review.title.replacingOccurrences(of: "確認", with: ""))",
            "  受付番号: \(record.id.rawValue)",
            "  \(verb)日時: \(Self.dateTime(record.committedAt))",
            "",
        ]
        let changed = prepared.review.rows.filter(\.changes)
        if !changed.isEmpty {
            lines.append("【\(verb)された項目】")
            for row in changed {
                lines.append("  \(row.label): \(row.after ?? "（削除）")")
            }
            lines.append("")
        }
        lines += [
            "この\(verb)に心当たりがない場合は、\(portal.name)のヘルプデスクにお問い合わせください。",
            "このメールは送信専用のアドレスから送信しています。返信はできません。",
            "",
            portal.name,
        ]
        return lines.joined(separator: "\n")
    }

    static func dateTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo") ?? .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d/%02d/%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// - Parameter wireDates: Dates as ISO 8601 text (`2026-12-05T03:41:58Z`), for documents that leave the
    ///   portal (the GEPS hand-over); the outbox's own payloads keep Foundation's default, which they are read with.
    static func json(_ value: some Encodable, wireDates: Bool = false) throws(RegistrationError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if wireDates { encoder.dateEncodingStrategy = .iso8601 }
        do { return Array(try encoder.encode(value)) } catch {
            throw .storeFailure("an outbox message could not be encoded: \(error)")
        }
    }
}
