// portal: a small back office over a SQLite file or a PostgreSQL database — register businesses and their people, bind certificates, update
// information as a given user (the rights decide), log in with a card, and deliver the outbox. A thin example over
// the Registration, CardCredentials, JPKI and PCSC modules.

import ArgumentParser
import Foundation
import Registration
import RegistrationPostgres
import ToolSupport

@main
struct Portal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal",
        abstract: "A back office of an e-bidding portal over a SQLite file: registrations, rights, login, outbox.",
        discussion: """
            Every change shows its confirmation screen (確認) and asks before it is committed; --yes commits \
            without asking. At a y/n question an empty answer takes the default the prompt shows ([y/N]). PINs and \
            passwords are asked for on the terminal without echo, or read from standard input with --pin-stdin / \
            --password-stdin; they are never printed. Readers are named with --reader: the number `cardtool \
            readers` prints, or a part of the name only one reader's name contains.

            \(ExitStatus.helpText)
            Refused (1): the rights, validation, a stale change, a wrong PIN, a login refused. Declined (3): n or \
            戻る at a confirmation; a declined registration prints no identifiers, since none were made.

            list, show and outbox list print JSON with --json (see each command's --help).

            Environment:
              PORTAL_NAME       the portal's name in the completion mails (default: 調達ポータル)
              PORTAL_MAIL_FROM  the mails' sender address (default: noreply@portal.example.jp)
              DATABASE_URL      the database when --db is not given
              PORTAL_LOG_LEVEL  the log level when --log-level is not given
              PORTAL_SMTP_PASSWORD  the SMTP password of `outbox deliver --smtp-user`

            \(ExitStatus.commonOptionsText)
            """,
        version: ToolVersion.current,
        subcommands: [
            Register.self, AgentCommand.self, CertificateCommand.self, UpdateCommand.self, QualificationCommand.self,
            List.self, Show.self, Login.self, OutboxCommand.self, RenewCommand.self, PowerOfAttorneyCommand.self,
            ReissueCommand.self, RevokeRequestCommand.self,
        ]
    )

    /// Logs go to standard error at warning level; --log-level (or PORTAL_LOG_LEVEL) sets another.
    static func main() async {
        await ToolMain.run(Self.self, tool: "portal", environmentLogLevel: "PORTAL_LOG_LEVEL") {
            isRefusal($0) ? .refused : .failed
        }
    }
}

struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The portal's database: an SQLite file (created by register; other commands need it), or a PostgreSQL "
                + "URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (parts left out come from libpq's PG* "
                + "variables; the password is best given in PGPASSWORD). Default: $DATABASE_URL when set, else "
                + "portal.sqlite.",
            valueName: "path-or-url"))
    var db: String?

    /// The database's address: `--db`, else `DATABASE_URL`, else `portal.sqlite`.
    var address: String {
        db ?? ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "portal.sqlite"
    }

    /// The address as it may be printed: a PostgreSQL URL without its password.
    var displayAddress: String {
        let address = address
        guard PostgresStoreConfiguration.isPostgresURL(address) else { return address }
        return (try? PostgresStoreConfiguration(url: address).description) ?? "the PostgreSQL database"
    }

    /// The store; only `register` creates the SQLite file or the PostgreSQL tables, so that a mistyped path or URL is
    /// said, not made into a database. A PostgreSQL database is migrated by whichever command connects first.
    func store(_ mode: SQLiteRegistrationStore.OpenMode = .existingOnly) async throws -> any RegistrationStore {
        let address = address
        if PostgresStoreConfiguration.isPostgresURL(address) {
            return try await PostgresRegistrationStore(
                try PostgresStoreConfiguration(url: address), createIfMissing: mode == .createIfMissing)
        }
        return try SQLiteRegistrationStore(path: address, mode: mode)
    }

    func service(_ mode: SQLiteRegistrationStore.OpenMode = .existingOnly) async throws -> RegistrationService {
        RegistrationService(store: try await store(mode), portal: try portalProfile())
    }
}

/// The portal's name and mail sender, from the environment (PORTAL_NAME, PORTAL_MAIL_FROM) or defaults.
func portalProfile() throws -> PortalProfile {
    let environment = ProcessInfo.processInfo.environment
    return PortalProfile(
        name: environment["PORTAL_NAME"] ?? "調達ポータル",
        mailFrom: try MailAddress(environment["PORTAL_MAIL_FROM"] ?? "noreply@portal.example.jp"))
}
