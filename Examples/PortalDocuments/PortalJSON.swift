package import Foundation
package import Registration

/// The JSON that `portal list|show|outbox list --json` print: explicit keys, sorted; dates ISO 8601 (UTC); a value
/// that is absent is `null`, never left out. Documented in each command's `--help` and in Documentation/Tools.md.
package enum PortalJSON {
    /// `portal list --json`.
    package struct List: Encodable {
        package struct Business: Encodable {
            package var id: String
            package var name: String
            package var users: [ListUser]
        }
        package struct ListUser: Encodable {
            package var id: String
            package var role: String
            package var name: String
            package var status: String
        }
        package var businesses: [Business]
        /// The business to give to `--after` for the next page; null on the last page.
        package var nextAfter: String?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(businesses, forKey: .businesses)
            try container.encode(nextAfter, forKey: .nextAfter)
        }
        enum CodingKeys: String, CodingKey { case businesses, nextAfter }

        package init(_ registrations: [BusinessRegistration], nextAfter: BusinessID?) {
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
    package struct Show: Encodable {
        package struct Business: Encodable {
            package var name: String
            package var postalCode: String
            package var address: String
            package var representativeTitle: String
            package var representativeName: String
            package var corporateNumber: String?
            package var phone: String

            package func encode(to encoder: any Encoder) throws {
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
        package struct ShowUser: Encodable {
            package var id: String
            package var role: String
            package var status: String
            package var title: String
            package var name: String
            package var postalCode: String
            package var address: String
            package var phone: String
            package var fax: String?
            package var mail: String
            package var certificates: [Certificate]

            package func encode(to encoder: any Encoder) throws {
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
        package struct Certificate: Encodable {
            package var id: String
            package var kind: String
            package var status: String
            package var serialNumber: String
            package var issuer: String
            package var subject: String
            package var notValidBefore: Date
            package var notValidAfter: Date
            package var fingerprint: String
        }
        package struct HistoryEntry: Encodable {
            package var id: String
            package var version: Int
            package var committedAt: Date
            package var summary: String
            package var actor: String?

            package func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(version, forKey: .version)
                try container.encode(committedAt, forKey: .committedAt)
                try container.encode(summary, forKey: .summary)
                try container.encode(actor, forKey: .actor)
            }
            enum CodingKeys: String, CodingKey { case id, version, committedAt, summary, actor }
        }
        package var id: String
        package var version: Int
        package var registeredAt: Date
        package var business: Business
        package var qualifications: [String]
        package var users: [ShowUser]
        package var history: [HistoryEntry]

        package init(_ registration: BusinessRegistration, history: [ChangeRecord], at date: Date) {
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
    package struct Outbox: Encodable {
        package struct Message: Encodable {
            package var id: String
            package var kind: String
            package var state: String
            package var attempts: Int
            package var idempotencyKey: String
            package var changeID: String
            package var businessID: String
            package var createdAt: Date
            package var nextAttemptAt: Date
            package var deliveredAt: Date?
            package var receipt: String?
            package var lastError: String?

            package func encode(to encoder: any Encoder) throws {
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
        package var messages: [Message]

        package init(_ messages: [OutboxMessage]) {
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
