import Foundation
import Registration
import ToolSupport

/// The JSON that `portal list|show|outbox list --json` print: explicit keys, sorted; dates ISO 8601 (UTC); a value
/// that is absent is `null`, never left out. Documented in each command's `--help` and in Documentation/Tools.md.
enum PortalJSON {
    /// `portal list --json`.
    struct List: Encodable {
        struct Business: Encodable {
            var id: String
            var name: String
            var users: [ListUser]
        }
        struct ListUser: Encodable {
            var id: String
            var role: String
            var name: String
            var status: String
        }
        var businesses: [Business]
        /// The business to give to `--after` for the next page; null on the last page.
        var nextAfter: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(businesses, forKey: .businesses)
            try container.encode(nextAfter, forKey: .nextAfter)
        }
        enum CodingKeys: String, CodingKey { case businesses, nextAfter }

        init(_ registrations: [BusinessRegistration], nextAfter: BusinessID?) {
            businesses = registrations.map { registration in
                Business(
                    id: registration.id.rawValue, name: registration.business.name,
                    users: registration.users.map {
                        ListUser(
                            id: $0.id.rawValue, role: $0.role.rawValue, name: $0.information.name,
                            status: $0.status.rawValue)
                    })
            }
            self.nextAfter = nextAfter?.rawValue
        }
    }

    /// `portal show --json`.
    struct Show: Encodable {
        struct Business: Encodable {
            var name: String
            var postalCode: String
            var address: String
            var representativeTitle: String
            var representativeName: String
            var corporateNumber: String?
            var phone: String

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                try container.encode(postalCode, forKey: .postalCode)
                try container.encode(address, forKey: .address)
                try container.encode(representativeTitle, forKey: .representativeTitle)
                try container.encode(representativeName, forKey: .representativeName)
                try container.encode(corporateNumber, forKey: .corporateNumber)
                try container.encode(phone, forKey: .phone)
            }
            enum CodingKeys: String, CodingKey {
                case name, postalCode, address, representativeTitle, representativeName, corporateNumber, phone
            }
        }
        struct ShowUser: Encodable {
            var id: String
            var role: String
            var status: String
            var title: String
            var name: String
            var postalCode: String
            var address: String
            var phone: String
            var fax: String?
            var mail: String
            var certificates: [Certificate]

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(role, forKey: .role)
                try container.encode(status, forKey: .status)
                try container.encode(title, forKey: .title)
                try container.encode(name, forKey: .name)
                try container.encode(postalCode, forKey: .postalCode)
                try container.encode(address, forKey: .address)
                try container.encode(phone, forKey: .phone)
                try container.encode(fax, forKey: .fax)
                try container.encode(mail, forKey: .mail)
                try container.encode(certificates, forKey: .certificates)
            }
            enum CodingKeys: String, CodingKey {
                case id, role, status, title, name, postalCode, address, phone, fax, mail, certificates
            }
        }
        struct Certificate: Encodable {
            var id: String
            var kind: String
            var status: String
            var serialNumber: String
            var issuer: String
            var subject: String
            var notValidBefore: Date
            var notValidAfter: Date
            var fingerprint: String
        }
        struct HistoryEntry: Encodable {
            var id: String
            var version: Int
            var committedAt: Date
            var summary: String
            var actor: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(version, forKey: .version)
                try container.encode(committedAt, forKey: .committedAt)
                try container.encode(summary, forKey: .summary)
                try container.encode(actor, forKey: .actor)
            }
            enum CodingKeys: String, CodingKey { case id, version, committedAt, summary, actor }
        }
        var id: String
        var version: Int
        var registeredAt: Date
        var business: Business
        var qualifications: [String]
        var users: [ShowUser]
        var history: [HistoryEntry]

        init(_ registration: BusinessRegistration, history: [ChangeRecord], at date: Date) {
            id = registration.id.rawValue
            version = registration.version
            registeredAt = registration.registeredAt
            let info = registration.business
            business = Business(
                name: info.name, postalCode: info.postalCode.text, address: info.address,
                representativeTitle: info.representativeTitle, representativeName: info.representativeName,
                corporateNumber: info.corporateNumber?.digits, phone: info.phone.text)
            qualifications = registration.qualifications.map { "\($0.kind.rawValue)-\($0.grade.rawValue)" }
            users = registration.users.map { user in
                ShowUser(
                    id: user.id.rawValue, role: user.role.rawValue, status: user.status.rawValue,
                    title: user.information.title, name: user.information.name,
                    postalCode: user.information.postalCode.text, address: user.information.address,
                    phone: user.information.phone.text, fax: user.information.fax?.text,
                    mail: user.information.mail.text,
                    certificates: registration.bindings(of: user.id).map { binding in
                        Certificate(
                            id: binding.id.rawValue, kind: binding.kind.rawValue,
                            status: binding.status(at: date).rawValue, serialNumber: binding.serialNumber,
                            issuer: binding.issuer, subject: binding.subject, notValidBefore: binding.notValidBefore,
                            notValidAfter: binding.notValidAfter, fingerprint: binding.fingerprint)
                    })
            }
            self.history = history.map {
                HistoryEntry(
                    id: $0.id.rawValue, version: $0.version, committedAt: $0.committedAt, summary: $0.summary,
                    actor: $0.actor?.rawValue)
            }
        }
    }

    /// `portal outbox list --json`.
    struct Outbox: Encodable {
        struct Message: Encodable {
            var id: String
            var kind: String
            var state: String
            var attempts: Int
            var idempotencyKey: String
            var changeID: String
            var businessID: String
            var createdAt: Date
            var nextAttemptAt: Date
            var deliveredAt: Date?
            var receipt: String?
            var lastError: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(kind, forKey: .kind)
                try container.encode(state, forKey: .state)
                try container.encode(attempts, forKey: .attempts)
                try container.encode(idempotencyKey, forKey: .idempotencyKey)
                try container.encode(changeID, forKey: .changeID)
                try container.encode(businessID, forKey: .businessID)
                try container.encode(createdAt, forKey: .createdAt)
                try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
                try container.encode(deliveredAt, forKey: .deliveredAt)
                try container.encode(receipt, forKey: .receipt)
                try container.encode(lastError, forKey: .lastError)
            }
            enum CodingKeys: String, CodingKey {
                case id, kind, state, attempts, idempotencyKey, changeID, businessID, createdAt, nextAttemptAt
                case deliveredAt, receipt, lastError
            }
        }
        var messages: [Message]

        init(_ messages: [OutboxMessage]) {
            self.messages = messages.map {
                Message(
                    id: $0.id.rawValue, kind: $0.kind.rawValue, state: $0.state.rawValue, attempts: $0.attempts,
                    idempotencyKey: $0.idempotencyKey, changeID: $0.changeID.rawValue,
                    businessID: $0.businessID.rawValue, createdAt: $0.createdAt, nextAttemptAt: $0.nextAttemptAt,
                    deliveredAt: $0.deliveredAt, receipt: $0.receipt, lastError: $0.lastError)
            }
        }
    }
}
