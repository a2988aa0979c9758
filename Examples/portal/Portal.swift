// portal: a small back office over a SQLite file — register businesses and their people, bind certificates, update
// information as a given user (the rights decide), log in with a card, and deliver the outbox. A thin example over
// the Registration, CardCredentials, JPKI and PCSC modules.

import ArgumentParser
import Foundation
import Logging
import Registration
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
    @Option(name: .long, help: "The SQLite file of the portal (created by register; other commands need it).")
    var db = "portal.sqlite"

    /// The store; only `register` creates the file, so that a mistyped path is said, not made into a database.
    func store(_ mode: SQLiteRegistrationStore.OpenMode = .existingOnly) throws -> SQLiteRegistrationStore {
        try SQLiteRegistrationStore(path: db, mode: mode)
    }

    func service(_ mode: SQLiteRegistrationStore.OpenMode = .existingOnly) throws -> RegistrationService {
        RegistrationService(store: try store(mode), portal: try portalProfile())
    }
}

/// The portal's name and mail sender, from the environment (PORTAL_NAME, PORTAL_MAIL_FROM) or defaults.
func portalProfile() throws -> PortalProfile {
    let environment = ProcessInfo.processInfo.environment
    return PortalProfile(
        name: environment["PORTAL_NAME"] ?? "調達ポータル",
        mailFrom: try MailAddress(environment["PORTAL_MAIL_FROM"] ?? "noreply@portal.example.jp"))
}
