// portal: a small back office over a SQLite file or a PostgreSQL database — register businesses and their people, bind certificates, update
// information as a given user (the rights decide), log in with a card, and deliver the outbox. A thin example over
// the Registration, CardCredentials, JPKI and PCSC modules.

import ArgumentParser
import Foundation
import Logging
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
            without asking. PINs and passwords are asked for on the terminal without echo, or read from standard \
            input with --pin-stdin / --password-stdin; they are never printed. Exit status: 0 on success, 1 when \
            something was refused (rights, validation, a stale change, a wrong PIN, a login refused), 2 on any \
            other error.
            """,
        subcommands: [
            Register.self, AgentCommand.self, CertificateCommand.self, UpdateCommand.self, QualificationCommand.self,
            List.self, Show.self, Login.self, OutboxCommand.self, RenewCommand.self, PowerOfAttorneyCommand.self,
            ReissueCommand.self, RevokeRequestCommand.self,
        ]
    )

    /// Logs go to standard error at warning level; PORTAL_LOG_LEVEL (trace, debug, info …) sets another.
    static func main() async {
        CommandLineText.requireValidUTF8(tool: "portal")
        let level =
            ProcessInfo.processInfo.environment["PORTAL_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
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
