import ArgumentParser
import CardCredentials
import CertificateRenewal
import Foundation
import PortalDocuments
import Registration
import SimulatorDesk
import ToolSupport
import X509

func isRefusal(_ error: any Error) -> Bool {
    switch error {
    case let error as RegistrationError:
        switch error {
        case .storeFailure, .storeUnreadable: return false
        default: break
        }
        return !error.isRetryable
    case let error as LifecycleError:
        // The flows' refusals (a wrong PIN, a card the rules refuse, 戻る, a stale confirmation) exit 1; a card
        // that cannot be read, or the store failing, are other errors.
        switch error.code {
        case .registration: return error.registrationError.map { isRefusal($0) } ?? true
        case .cardUnreadable, .noCardInserted, .cancelled: return false
        default: return true
        }
    case is OutboxCommand.DeliveryFailures:
        // A receiver refused a message for good (or it ran out of tries).
        return true
    case let error as CardCredentialsError:
        switch error {
        case .pinFormat, .wrongPIN, .pinBlocked, .lastTryRefused, .wrongPassword: return true
        default: return false
        }
    default: return false
    }
}

struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "新規登録: register a business, its representative (代表者) and the representative's certificate.")
    @OptionGroup var storage: StoreOptions
    @OptionGroup var business: BusinessFields
    @OptionGroup var user: UserFields
    @OptionGroup var source: CertificateSource
    @OptionGroup var confirm: ConfirmOption

    func run() async throws {
        let service = try await storage.service(.createIfMissing)
        let prepared = try await service.prepareRegistration(
            of: try business.information(), representative: try user.information(),
            certificate: try await source.certificate(), kind: source.kind,
            by: .portal(operator: ProcessInfo.processInfo.environment["USER"] ?? "portal"))
        // A declined confirmation throws: the identifiers below were never made, so they are not printed.
        _ = try await Screens.confirmAndCommit(prepared, service: service, yes: confirm.yes, verb: "登録")
        print("事業者 \(prepared.after.id)  代表者 \(prepared.after.users[0].id)")
    }
}

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Agents (代理人): add one, or delete one (利用者情報削除).",
        subcommands: [Add.self, AgentDeleteCommand.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "代理人登録: add an agent with its certificate (the representative does this).")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @OptionGroup var user: UserFields
        @OptionGroup var source: CertificateSource
        @Option(
            help:
                "For a My Number card: the power of attorney (電子委任状) as JSON: principal, agent, authority, validFrom and validUntil (ISO 8601), provider, reference (Documentation/Flows/PowerOfAttorney.md)."
        )
        var powerOfAttorney: String?
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                let attorney = try powerOfAttorney.map { try PowerOfAttorneyFile.read($0) }
                return .addAgent(
                    try user.information(), try await source.certificate(), source.kind,
                    powerOfAttorney: attorney)
            }
        }
    }
}

struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "電子証明書情報: add or remove a user's certificate.",
        subcommands: [Add.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bind a certificate to a user.")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @Option(help: "The user who gets the certificate (default: the acting user).") var user: String?
        @OptionGroup var source: CertificateSource
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                let target = user.map { UserID(rawValue: $0) } ?? actor.userID
                return .addCertificate(target, try await source.certificate(), source.kind)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a certificate binding (C-…).")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @Argument(help: "The binding to remove (C-…).") var binding: String
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                return .removeCertificate(BindingID(rawValue: binding))
            }
        }
    }
}

struct UpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Update information as a given user; the rights decide.",
        subcommands: [UserUpdate.self, BusinessUpdate.self])

    struct UserUpdate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "user", abstract: "利用者基本情報の変更: flags left out keep their value.")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @Option(help: "The user to update (default: the acting user).") var user: String?
        @OptionGroup var fields: UserFields
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                let target = user.map { UserID(rawValue: $0) } ?? actor.userID
                let current = try registration.user(target).information
                return .updateUserInformation(target, try fields.information(updating: current))
            }
        }
    }

    struct BusinessUpdate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "business", abstract: "事業者基本情報の変更 (representative only): flags left out keep their value.")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @OptionGroup var fields: BusinessFields
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                return .updateBusinessInformation(try fields.information(updating: registration.business))
            }
        }
    }
}

struct QualificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qualification", abstract: "資格情報: add from the selection, or remove (representative only).",
        subcommands: [Add.self, Remove.self])

    struct Arguments: ParsableArguments {
        @Option(help: "The kind: manufacturing (物品の製造), sales (物品の販売), services (役務の提供等), purchase (物品の買受け).")
        var kind: String
        @Option(help: "The grade: A, B, C or D.") var grade: String

        func validate() throws { _ = try qualification() }

        func qualification() throws -> Qualification {
            guard let kind = Qualification.Kind(rawValue: kind) else {
                throw ValidationError("--kind is manufacturing, sales, services or purchase.")
            }
            guard let grade = Qualification.Grade(rawValue: grade.uppercased()) else {
                throw ValidationError("--grade is A, B, C or D.")
            }
            return Qualification(kind: kind, grade: grade)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "資格情報の追加.")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @OptionGroup var arguments: Arguments
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                return .addQualification(try arguments.qualification())
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "資格情報の削除.")
        @OptionGroup var storage: StoreOptions
        @OptionGroup var actor: ActorOption
        @OptionGroup var arguments: Arguments
        @OptionGroup var confirm: ConfirmOption

        func run() async throws {
            try await actor.commit(storage: storage, yes: confirm.yes) { registration in
                return .removeQualification(try arguments.qualification())
            }
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the registered businesses and their users.",
        discussion: """
            In order of registration. With --limit, one page: the last line names the business to give to --after \
            for the next page. The filters combine: --name, --corporate-number (法人番号), and --expiring-within \
            DAYS, the businesses with an active certificate whose validity ends within DAYS days from now (the list \
            before a renewal season; each user's active certificate's end is then shown).

            With --json, one document (keys sorted; see Documentation/Tools.md):
              {"businesses": [{"id": "B-…", "name": "…", "users": [{"id": "U-…", "name": "…", \
            "role": "representative" or "agent", "status": "active" or "deleted"}]}], "nextAfter": "B-…" or null}
            nextAfter is the business to give to --after for the next page, null on the last page.
            """)
    @OptionGroup var storage: StoreOptions
    @Flag(help: "Print JSON (documented above) instead of a table.") var json = false
    @Option(help: "At most this many businesses (a page).") var limit: Int?
    @Option(help: "Start after this business (B-…), the last of the previous page.") var after: String?
    @Option(help: "Only businesses whose name (商号又は名称) contains this text.") var name: String?
    @Option(help: "Only the business with this 法人番号 (13 digits).") var corporateNumber: String?
    @Option(help: "Only businesses with an active certificate whose validity ends within this many days from now.")
    var expiringWithin: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit is a number of businesses, 1 or more.") }
        if let expiringWithin, expiringWithin < 0 {
            throw ValidationError("--expiring-within is a number of days, 0 or more.")
        }
    }

    func run() async throws {
        var rows: [[String]] = []
        let store = try await storage.store()
        let number = try corporateNumber.map { try CorporateNumber($0) }
        let expiry = expiringWithin.map { RegistrationPage.expiry(withinDays: $0) }
        let registrations =
            if limit != nil || after != nil || name != nil || number != nil || expiry != nil {
                try await store.registrations(
                    RegistrationPage(
                        limit: limit ?? Int.max, after: after.map(BusinessID.init(rawValue:)), nameContaining: name,
                        corporateNumber: number, certificateExpiry: expiry)
                )
            } else {
                try await store.registrations()
            }
        let nextAfter = limit.flatMap { registrations.count == $0 ? registrations.last?.id : nil }
        if json {
            try JSONOutput.print(PortalJSON.List(registrations, nextAfter: nextAfter))
            return
        }
        for registration in registrations {
            for user in registration.users {
                var row = [
                    registration.id.rawValue, registration.business.name, user.id.rawValue,
                    user.role.japaneseName, user.information.name, user.status == .deleted ? "削除済み" : "",
                ]
                if expiry != nil {
                    let ends = registration.bindings.filter { $0.userID == user.id && $0.recordedStatus == .active }
                        .map { "有効期限 " + $0.notValidAfter.formatted(.iso8601.year().month().day()) }
                    row.append(ends.joined(separator: ", "))
                }
                rows.append(row)
            }
        }
        if rows.isEmpty {
            print("登録されている事業者はありません (no business is registered in \(storage.displayAddress)).")
        } else {
            print(TerminalText.table(rows))
        }
        if let nextAfter {
            print("次のページ (next page): --after \(nextAfter)")
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a registration in full (by business B-… or user U-…), with its certificates and history.",
        discussion: """
            With --json, one document (keys sorted, dates ISO 8601 in UTC, absent values null; see \
            Documentation/Tools.md):
              {"id": "B-…", "version": 1, "registeredAt": "…", "business": {"name", "postalCode", "address", \
            "representativeTitle", "representativeName", "corporateNumber", "phone"}, "qualifications": \
            ["services-A"], "users": [{"id", "role", "status", "title", "name", "postalCode", "address", "phone", \
            "fax", "mail", "certificates": [{"id": "C-…", "kind": "icCard" | "fileCertificate" | "myNumberCard", \
            "status": "active" | "superseded" | "revoked" | "expired" | "removed", "serialNumber", "issuer", \
            "subject", "notValidBefore", "notValidAfter", "fingerprint"}]}], "history": [{"id", "version", \
            "committedAt", "summary", "actor"}]}
            """)
    @OptionGroup var storage: StoreOptions
    @Flag(help: "Print JSON (documented above) instead of the screen.") var json = false
    @Argument(help: "A business (B-…) or user (U-…) identifier.") var id: String

    func run() async throws {
        let store = try await storage.store()
        let registration =
            id.hasPrefix("U-")
            ? try await store.registration(ofUser: UserID(rawValue: id))
            : try await store.registration(BusinessID(rawValue: id))
        guard let registration else {
            throw id.hasPrefix("U-")
                ? RegistrationError.userNotFound(UserID(rawValue: id))
                : RegistrationError.businessNotFound(BusinessID(rawValue: id))
        }
        let history = try await store.history(of: registration.id)
        if json {
            try JSONOutput.print(PortalJSON.Show(registration, history: history, at: Date()))
            return
        }
        print(Screens.registration(registration, history: history, at: Date()), terminator: "")
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in with a certificate: the portal issues a challenge, the card or file key signs it.")
    @OptionGroup var storage: StoreOptions
    @OptionGroup var source: CertificateSource
    @OptionGroup var checks: TrustOptions

    func run() async throws {
        let login = CertificateLogin(store: try await storage.store(), validator: try checks.validator())
        let challenge = try await login.issueChallenge()
        let session = try await login.login(try await source.answer(challenge))
        print("ログインしました: \(session.businessName)  \(session.userName)（\(session.role.japaneseName)）")
        print("利用者 \(session.userID)  証明書 \(session.bindingID)")
    }
}

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "The hand-overs to GEPS and the completion mails: list and deliver.",
        subcommands: [ListOutbox.self, Deliver.self, Retry.self])

    struct ListOutbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List outbox messages.",
            discussion: """
                With --json, one document (keys sorted, dates ISO 8601 in UTC, absent values null; see \
                Documentation/Tools.md):
                  {"messages": [{"id": "M-…", "kind": "gepsHandOver" | "mail", "state": "pending" | "delivered" | \
                "failed", "attempts": 1, "idempotencyKey", "changeID", "businessID", "createdAt", "nextAttemptAt", \
                "deliveredAt", "receipt", "lastError"}]}
                """)
        @OptionGroup var storage: StoreOptions
        @Option(help: "Only messages in this state: pending, delivered or failed.") var state: String?
        @Flag(help: "Print JSON (documented above) instead of a table.") var json = false

        func run() async throws {
            let filter = try state.map {
                guard let state = OutboxMessage.State(rawValue: $0) else {
                    throw ValidationError("--state is pending, delivered or failed.")
                }
                return state
            }
            var rows: [[String]] = []
            let messages = try await storage.store().outbox(state: filter)
            if json {
                try JSONOutput.print(PortalJSON.Outbox(messages))
                return
            }
            for message in messages {
                let note: String = message.lastError ?? message.receipt ?? ""
                rows.append([
                    message.id.rawValue, message.kind.rawValue, message.state.rawValue,
                    "tries \(message.attempts)", message.idempotencyKey, note,
                ])
            }
            if rows.isEmpty {
                print("送信待ちの通知はありません (the outbox of \(storage.displayAddress) holds no such message).")
            } else {
                print(TerminalText.table(rows))
            }
        }
    }
}

extension OutboxCommand {
    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver what is due: GEPS hand-overs first, then the mails that wait for them.",
            discussion: """
                Delivery is at least once: a message whose answer was lost is sent again with the same idempotency \
                key (and the mail with the same Message-ID). Failed tries are retried with backoff on a later run.

                Mail goes over TLS: STARTTLS by default, or implicit TLS (port 465), the server's certificate \
                checked against the system's trust store (or --smtp-ca-file) and the host name. A relay on the \
                loopback interface (127.0.0.0/8, ::1, localhost) is spoken to without TLS unless --smtp-tls says \
                otherwise: nothing leaves the host. A server that does not offer STARTTLS is not used in clear. \
                With --smtp-user, the password comes from the PORTAL_SMTP_PASSWORD environment variable, from the \
                first line of standard input with --smtp-password-stdin, or is asked for on the terminal; it is \
                never sent without TLS unless --allow-plaintext-auth is given.

                Exit status: 0 when every message tried was delivered or waits for a retry whose time has not \
                come; 1 when a message failed for good in this run (each one, with its reason, on standard error; \
                put it back with `portal outbox retry M-…` once the cause is fixed); 2 on any other error (the \
                database); 64 for a command line that cannot be used.
                """)
        @OptionGroup var storage: StoreOptions
        @Option(help: "The SMTP server, HOST:PORT (587 for STARTTLS, 465 for implicit TLS).") var smtp = "127.0.0.1:25"
        @Option(
            help: ArgumentHelp(
                "How mail is protected: starttls, implicit or none (default: none for a loopback relay, else starttls).",
                valueName: "mode"))
        var smtpTLS: String?
        @Option(
            help: ArgumentHelp(
                "A PEM file of the CAs to trust for the SMTP server's certificate (default: the system's).",
                valueName: "path"))
        var smtpCAFile: String?
        @Option(
            help: ArgumentHelp(
                "The SMTP user for AUTH PLAIN; the password comes from PORTAL_SMTP_PASSWORD or standard input.",
                valueName: "user"))
        var smtpUser: String?
        @Flag(help: "Read the SMTP password from the first line of standard input.") var smtpPasswordStdin = false
        @Flag(help: "Allow the SMTP password over a connection without TLS (a relay on a trusted network only).")
        var allowPlaintextAuth = false
        @Option(help: "The name this host gives in EHLO.") var helo = "portal.localhost"
        @Option(help: "The base URL of the GEPS gateway (HTTP-JSON reference protocol).") var geps: String
        @Option(help: "The most messages to deliver in this run.") var limit = 50

        func validate() throws {
            let (host, _) = try server()
            let security = try security(for: host)
            if security == .plain, smtpUser != nil, !allowPlaintextAuth {
                throw ValidationError(
                    "The SMTP password would cross the connection to \(host) without TLS: use --smtp-tls starttls "
                        + "or implicit, or --allow-plaintext-auth for a relay on a trusted network.")
            }
            if security == .plain, smtpCAFile != nil {
                throw ValidationError("--smtp-ca-file needs TLS: use --smtp-tls starttls or implicit.")
            }
            if let smtpCAFile, !FileManager.default.isReadableFile(atPath: smtpCAFile) {
                throw ValidationError("--smtp-ca-file \(smtpCAFile) cannot be read.")
            }
            if smtpPasswordStdin, smtpUser == nil { throw ValidationError("--smtp-password-stdin needs --smtp-user.") }
        }

        func run() async throws {
            let (host, port) = try server()
            guard let url = URL(string: geps), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--geps is an http:// or https:// URL.")
            }
            let mail = SMTPMailTransport(
                host: host, port: port, heloName: helo, credentials: try credentials(),
                security: try security(for: host), trustedCAFile: smtpCAFile,
                allowPlaintextAuthentication: allowPlaintextAuth)
            let dispatcher = OutboxDispatcher(
                store: try await storage.store(), mail: mail, geps: HTTPJSONGEPSGateway(baseURL: url))
            let report = try await dispatcher.deliverDue(limit: limit)
            print(report)
            let failed = report.lines.filter {
                if case .failed = $0.outcome { true } else { false }
            }
            if !failed.isEmpty { throw DeliveryFailures(lines: failed) }
        }

        /// --smtp as host and port.
        private func server() throws -> (host: String, port: UInt16) {
            let parts = smtp.split(separator: ":")
            guard parts.count == 2, !parts[0].isEmpty, let port = UInt16(parts[1]) else {
                throw ValidationError("--smtp is HOST:PORT, as 127.0.0.1:25.")
            }
            return (String(parts[0]), port)
        }

        /// --smtp-tls, or its default for `host`.
        private func security(for host: String) throws -> SMTPSecurity {
            switch smtpTLS?.lowercased() {
            case nil: Self.isLoopback(host) ? .plain : .startTLS
            case "starttls": .startTLS
            case "implicit": .implicitTLS
            case "none": .plain
            default: throw ValidationError("--smtp-tls is starttls, implicit or none.")
            }
        }

        /// Whether `host` names the loopback interface, so that mail to it never leaves this host.
        static func isLoopback(_ host: String) -> Bool {
            if host.lowercased() == "localhost" || host == "::1" { return true }
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
        }

        /// The SMTP credentials, the password from PORTAL_SMTP_PASSWORD, standard input or the terminal.
        private func credentials() throws -> SMTPCredentials? {
            guard let smtpUser else { return nil }
            var bytes: [UInt8]
            if smtpPasswordStdin {
                bytes = try PINInput.readStandardInput()
            } else if let fromEnvironment = ProcessInfo.processInfo.environment["PORTAL_SMTP_PASSWORD"] {
                bytes = Array(fromEnvironment.utf8)
            } else {
                bytes = try PINInput.prompt("SMTP password of \(smtpUser): ")
            }
            return SMTPCredentials(username: smtpUser, password: try SecretPIN(wiping: &bytes, policy: .password()))
        }
    }

    /// The messages of a delivery run that failed for good: exit 1, each named with its reason.
    struct DeliveryFailures: Error, CustomStringConvertible {
        var lines: [DeliveryReport.Line]

        var description: String {
            let count = lines.count == 1 ? "1 message" : "\(lines.count) messages"
            var text = ["\(count) failed for good in this run:"]
            for line in lines {
                guard case .failed(let reason) = line.outcome else { continue }
                text.append("  \(line.id) (\(line.kind.rawValue), \(line.idempotencyKey)): \(reason)")
            }
            text.append("Fix the cause, then put each back with `portal outbox retry M-…`.")
            return text.joined(separator: "\n")
        }
    }
}

extension OutboxCommand {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a failed message (and the mails waiting for it) back in the queue, after fixing the cause.")
        @OptionGroup var storage: StoreOptions
        @Argument(help: "The failed outbox message (M-…).") var message: String

        func run() async throws {
            let requeued = try await storage.store().requeue(OutboxMessageID(rawValue: message), at: Date())
            print("再送待ちにしました: " + requeued.map(\.rawValue).joined(separator: ", "))
        }
    }
}
