import CardCredentials
import Foundation
import X509

/// Applies a change to a registration value: the pure part of a change, with its confirmation screen.
enum ChangeApplication {
    struct Outcome {
        var registration: BusinessRegistration
        var review: ChangeReview
        var newCertificates: [Certificate]
    }

    static func apply(_ change: RegistrationChange, to registration: BusinessRegistration, at date: Date)
        throws(RegistrationError) -> Outcome
    {
        var after = registration
        var rows: [ReviewRow] = []
        var notes: [String] = []
        var newCertificates: [Certificate] = []
        switch change {
        case .updateBusinessInformation(let information):
            rows = zip(registration.business.labeledFields, information.labeledFields).map {
                ReviewRow(label: $0.label, before: $0.value, after: $1.value)
            }
            after.business = information
            guard rows.contains(where: \.changes) else { throw .changeNotAllowed("nothing is changed") }
            notes.append("商号又は名称を変更すると、登録済みの電子証明書の商号と一致しなくなる場合があります。")

        case .updateUserInformation(let id, let information):
            let user = try registration.user(id)
            guard user.status == .active else { throw .userDeleted(id) }
            rows = zip(user.information.labeledFields, information.labeledFields).map {
                ReviewRow(label: $0.label, before: $0.value, after: $1.value)
            }
            guard rows.contains(where: \.changes) else { throw .changeNotAllowed("nothing is changed") }
            try update(&after, user: id) { $0.information = information }

        case .addQualification(let qualification):
            guard !registration.qualifications.contains(qualification) else {
                throw .changeNotAllowed("資格情報 \(qualification) is registered already")
            }
            after.qualifications.append(qualification)
            rows = [ReviewRow(label: "資格情報", before: nil, after: qualification.description)]

        case .removeQualification(let qualification):
            guard registration.qualifications.contains(qualification) else {
                throw .changeNotAllowed("資格情報 \(qualification) is not registered")
            }
            after.qualifications.removeAll { $0 == qualification }
            rows = [ReviewRow(label: "資格情報", before: qualification.description, after: nil)]

        case .addCertificate(let id, let certificate, let kind):
            let user = try registration.user(id)
            guard user.status == .active else { throw .userDeleted(id) }
            try RegistrationService.requireCompanyName(of: certificate, equals: registration.business.name)
            try requireCurrent(certificate, at: date)
            let binding = try CertificateBinding(certificate: certificate, kind: kind, userID: id, at: date)
            after.bindings.append(binding)
            newCertificates.append(certificate)
            rows =
                [ReviewRow(label: "氏名", before: user.information.name, after: user.information.name)]
                + RegistrationService.certificateRows(binding, before: nil)

        case .removeCertificate(let id):
            let binding = try registration.binding(id)
            guard binding.recordedStatus == .active else { throw .certificateNotActive(binding.recordedStatus) }
            let others = registration.activeBindings(of: binding.userID, at: date).filter { $0.id != id }
            guard !others.isEmpty else {
                throw .changeNotAllowed(
                    "it is the user's last active certificate; add the new one first, or delete the user")
            }
            try update(&after, binding: id) {
                $0.recordedStatus = .removed
                $0.endedAt = date
            }
            rows = RegistrationService.certificateRows(binding, before: nil).map {
                ReviewRow(label: $0.label, before: $0.after, after: nil)
            }

        case .replaceCertificate(let id, let certificate, let kind):
            let old = try registration.binding(id)
            guard old.recordedStatus == .active else { throw .certificateNotActive(old.recordedStatus) }
            try RegistrationService.requireCompanyName(of: certificate, equals: registration.business.name)
            try requireCurrent(certificate, at: date)
            let new = try CertificateBinding(certificate: certificate, kind: kind, userID: old.userID, at: date)
            try update(&after, binding: id) {
                $0.recordedStatus = .superseded
                $0.endedAt = date
                $0.supersededBy = new.id
            }
            after.bindings.append(new)
            newCertificates.append(certificate)
            rows = RegistrationService.certificateRows(new, before: old)
            notes.append("更新後は、現在の電子証明書ではログインできなくなります。")

        case .markCertificateRevoked(let id):
            let binding = try registration.binding(id)
            guard binding.recordedStatus != .revoked else {
                throw .changeNotAllowed("it is recorded as revoked already")
            }
            try update(&after, binding: id) {
                $0.recordedStatus = .revoked
                $0.endedAt = $0.endedAt ?? date
            }
            rows =
                [
                    ReviewRow(
                        label: "状態", before: binding.recordedStatus.description,
                        after: BindingStatus.revoked.description)
                ]
                + RegistrationService.certificateRows(binding, before: binding)

        case .addAgent(let information, let certificate, let kind, let attorney):
            try RegistrationService.requireCompanyName(of: certificate, equals: registration.business.name)
            try requireCurrent(certificate, at: date)
            let user = User(role: .agent, information: information, at: date)
            after.users.append(user)
            let binding = try CertificateBinding(certificate: certificate, kind: kind, userID: user.id, at: date)
            after.bindings.append(binding)
            newCertificates.append(certificate)
            rows =
                information.labeledFields.map {
                    ReviewRow(label: $0.label, before: nil, after: $0.value.isEmpty ? nil : $0.value)
                }
                + RegistrationService.certificateRows(binding, before: nil)
            if kind == .myNumberCard {
                guard var attorney else {
                    throw .invalidField(
                        field: "電子委任状", reason: "an agent registered with a My Number card needs its power of attorney")
                }
                guard attorney.isValid(at: date) else { throw .powerOfAttorneyExpired(validUntil: attorney.validUntil) }
                attorney.agentID = user.id
                after.powersOfAttorney.append(attorney)
                rows += attorney.labeledFields.map { ReviewRow(label: $0.label, before: nil, after: $0.value) }
            }
            notes.append("代理人の登録は代表者に通知されます。")

        case .deleteUser(let id):
            let user = try registration.user(id)
            guard user.status == .active else { throw .userDeleted(id) }
            try update(&after, user: id) {
                $0.status = .deleted
                $0.deletedAt = date
            }
            for binding in registration.bindings where binding.userID == id && binding.recordedStatus == .active {
                try update(&after, binding: binding.id) {
                    $0.recordedStatus = .removed
                    $0.endedAt = date
                }
            }
            rows = user.information.labeledFields.map {
                ReviewRow(label: $0.label, before: $0.value.isEmpty ? nil : $0.value, after: nil)
            }
            for binding in registration.activeBindings(of: id, at: date) {
                rows += RegistrationService.certificateRows(binding, before: nil).map {
                    ReviewRow(label: $0.label, before: $0.after, after: nil)
                }
            }
            if let attorney = registration.currentPowerOfAttorney(of: id) {
                rows += attorney.labeledFields.map { ReviewRow(label: $0.label, before: $0.value, after: nil) }
            }
            notes.append("利用者情報の削除は取り消せません。再度利用する場合は新規に利用者登録が必要です。")
            notes.append("これまでのレコメンド及びお知らせは引き継がれません。")

        case .renewPowerOfAttorney(let id, var attorney):
            let user = try registration.user(id)
            guard user.role == .agent, user.status == .active else {
                throw .changeNotAllowed("only an active agent (代理人) has a power of attorney")
            }
            guard attorney.isValid(at: date) else { throw .powerOfAttorneyExpired(validUntil: attorney.validUntil) }
            attorney.agentID = id
            let old = registration.currentPowerOfAttorney(of: id)
            if let old, let index = after.powersOfAttorney.firstIndex(where: { $0.id == old.id }) {
                after.powersOfAttorney[index].isSuperseded = true
            }
            after.powersOfAttorney.append(attorney)
            let beforeFields = old?.labeledFields.map(\.value) ?? Array(repeating: nil, count: 5)
            rows = zip(beforeFields, attorney.labeledFields).map {
                ReviewRow(label: $1.label, before: $0, after: $1.value)
            }
        }
        let review = ChangeReview(
            title: change.title + "確認", businessName: registration.business.name, rows: rows, notes: notes)
        return Outcome(registration: after, review: review, newCertificates: newCertificates)
    }

    /// A new certificate must be within its validity period.
    static func requireCurrent(_ certificate: Certificate, at date: Date) throws(RegistrationError) {
        guard certificate.notValidBefore <= date else {
            throw .certificateUntrusted(
                "it is not valid before \(CertificateSummary.japanDate(certificate.notValidBefore))")
        }
        guard date <= certificate.notValidAfter else {
            throw .certificateUntrusted("it expired on \(CertificateSummary.japanDate(certificate.notValidAfter))")
        }
    }

    private static func update(
        _ registration: inout BusinessRegistration, user id: UserID, _ body: (inout User) -> Void
    ) throws(RegistrationError) {
        guard let index = registration.users.firstIndex(where: { $0.id == id }) else { throw .userNotFound(id) }
        body(&registration.users[index])
    }

    private static func update(
        _ registration: inout BusinessRegistration, binding id: BindingID, _ body: (inout CertificateBinding) -> Void
    ) throws(RegistrationError) {
        guard let index = registration.bindings.firstIndex(where: { $0.id == id }) else { throw .bindingNotFound(id) }
        body(&registration.bindings[index])
    }
}
