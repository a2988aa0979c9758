import CardCredentials
import Foundation
import Registration
import ToolSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The screens of a change: confirmation (確認) and completion (完了), as aligned text.
enum Screens {
    static func confirmation(_ review: ChangeReview) -> String {
        var rows = [["項目", "変更前", "変更後"]]
        for row in review.rows {
            rows.append([row.changes ? "* " + row.label : "  " + row.label, row.before ?? "", row.after ?? ""])
        }
        var text = "【\(review.title)】  \(review.businessName)\n" + TerminalText.table(rows) + "\n"
        for note in review.notes { text += "※ \(note)\n" }
        return text
    }

    static func completion(_ done: CommittedChange) -> String {
        let title = done.review.title.replacingOccurrences(of: "確認", with: "完了")
        return "【\(title)】 受付番号 \(done.changeID)\n"
            + "GEPSへの連携と完了通知メール（[重要]利用者更新完了通知）を送信待ちにしました "
            + "(\(done.outbox.count) 件)。\n"
    }

    static func registration(_ registration: BusinessRegistration, history: [ChangeRecord], at date: Date) -> String {
        var text = "\(registration.id)  \(registration.business.name)  (version \(registration.version))\n"
        text += TerminalText.table(registration.business.labeledFields.map { ["  " + $0.label, $0.value] }) + "\n"
        if !registration.qualifications.isEmpty {
            text += "  資格情報  " + registration.qualifications.map(\.description).joined(separator: "、") + "\n"
        }
        for user in registration.users {
            text +=
                "\n\(user.id)  \(user.information.name)  \(user.role.japaneseName)"
                + (user.status == .deleted ? "  （削除済み）" : "") + "\n"
            text += TerminalText.table(user.information.labeledFields.map { ["  " + $0.label, $0.value] }) + "\n"
            for binding in registration.bindings(of: user.id) {
                text += "  \(binding.id)  \(binding.kind.japaneseLabel)  \(binding.status(at: date))\n"
                text +=
                    TerminalText.table([
                        ["    証明書シリアル番号", binding.serialNumber], ["    証明書発行者", binding.issuer],
                        ["    証明書有効期限", CertificateSummary.japanDate(binding.notValidAfter)],
                        ["    SHA-256", binding.fingerprint],
                    ]) + "\n"
            }
            if let attorney = registration.currentPowerOfAttorney(of: user.id) {
                text += "  電子委任状" + (attorney.isValid(at: date) ? "" : "（期限切れ）") + "\n"
                text += TerminalText.table(attorney.labeledFields.map { ["    " + $0.label, $0.value] }) + "\n"
            }
        }
        if !history.isEmpty {
            text += "\n履歴\n"
            text +=
                TerminalText.table(
                    history.map {
                        [
                            "  \($0.id)", "v\($0.version)", CertificateSummary.japanDate($0.committedAt), $0.summary,
                            $0.actor?.rawValue ?? "portal",
                        ]
                    }) + "\n"
        }
        return text
    }

    /// Shows the confirmation screen, asks (unless `yes`), and commits; a declined confirmation throws ``Declined``
    /// (exit 3) with nothing changed. `verb` is what the button does: 登録 for a new registration, else 更新.
    static func confirmAndCommit(
        _ prepared: PreparedChange, service: RegistrationService, yes: Bool, verb: String = "更新"
    ) async throws -> CommittedChange {
        print(confirmation(prepared.review), terminator: "")
        fflush(nil)
        let confirmed = try yes || Ask.yesNo("この内容で\(verb)しますか？ \(verb)する場合は y、戻る場合は n")
        guard confirmed else {
            print("戻る: 何も変更していません。")
            throw Declined()
        }
        let done = try await service.commit(prepared)
        print(completion(done), terminator: "")
        return done
    }
}
