public import CardCredentials
import Foundation

/// A PIN dialog: what the person reads before typing a PIN.
public struct PINDialog: Sendable, Hashable {
    /// The window's title (`SETTITLE`).
    public var title: String
    /// The text (`SETDESC`): who asks, for what, and the tries left.
    public var description: String
    /// The field's label (`SETPROMPT`).
    public var prompt: String
    /// The form the PIN must have; a PIN of another form is asked again (at most three times) and never sent.
    public var policy: PINPolicy

    /// A dialog from its parts.
    public init(title: String, description: String, prompt: String, policy: PINPolicy) {
        self.title = title
        self.description = description
        self.prompt = prompt
        self.policy = policy
    }
}

/// A consent dialog: a question the person answers with OK or Cancel.
public struct ConsentDialog: Sendable, Hashable {
    /// The window's title (`SETTITLE`).
    public var title: String
    /// The question (`SETDESC`).
    public var description: String
    /// The OK button's label (`SETOK`).
    public var ok: String
    /// The Cancel button's label (`SETCANCEL`).
    public var cancel: String

    /// A dialog from its parts.
    public init(title: String, description: String, ok: String, cancel: String) {
        self.title = title
        self.description = description
        self.ok = ok
        self.cancel = cancel
    }
}

/// Where the agent asks a person for a PIN or a consent: ``Pinentry`` on a desktop, anything else in a test or
/// another front end.
public protocol PINDialogs: Sendable {
    /// Asks for a PIN of `dialog.policy`'s form.
    ///
    /// - Throws: ``AgentError`` with ``AgentError/Code-swift.struct/cancelled``,
    ///   ``AgentError/Code-swift.struct/timeout``, ``AgentError/Code-swift.struct/pinFormat`` or
    ///   ``AgentError/Code-swift.struct/pinentryFailed``.
    func askPIN(_ dialog: PINDialog) async throws(AgentError) -> SecretPIN

    /// Asks for consent; returns when the person pressed OK.
    ///
    /// - Throws: ``AgentError`` with ``AgentError/Code-swift.struct/cancelled`` when the person declined or
    ///   cancelled, or as ``askPIN(_:)``.
    func confirm(_ dialog: ConsentDialog) async throws(AgentError)
}

/// The client of a pinentry program (`pinentry-gnome3`, `pinentry-qt`, `pinentry-curses`, `pinentry-tty`, or
/// any program that speaks its Assuan protocol on standard input and output).
///
/// Each dialog starts the program, sends `SETTITLE`, `SETDESC`, `SETPROMPT` (or `SETOK`/`SETCANCEL`),
/// `SETTIMEOUT`, then `GETPIN` (answered `D <pin>` and `OK`) or `CONFIRM`, and `BYE`. Parameters are
/// percent-escaped (`%`, CR, LF). The PIN's bytes go from the answer straight into a `SecretPIN`; every buffer
/// that held them is wiped, and no error quotes an answer. The conversation runs on a thread of its own, and a
/// cancelled task kills the program.
///
/// ```swift
/// let pinentry = Pinentry(program: configuration.pinentryProgram())
/// let pin = try await pinentry.askPIN(dialog)
/// ```
public struct Pinentry: PINDialogs {
    /// The program's path, or a name looked up on `PATH`.
    public var program: String
    /// Its arguments.
    public var arguments: [String]
    /// Variables added to (or replacing those of) the agent's environment for the program.
    public var environment: [String: String]
    /// How long the person has to answer a dialog (`SETTIMEOUT`); the agent gives up a little after.
    public var timeout: Duration

    /// How many times a PIN of the wrong form is asked again before the request fails.
    public static let formatAttempts = 3

    /// How long past its own timeout a dialog program may take to answer before the agent kills it, in seconds.
    static let graceSeconds: Int64 = 5

    /// A client of `program`.
    public init(
        program: String, arguments: [String] = [], environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) {
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
    }

    /// Asks for a PIN; a PIN of the wrong form is asked again with `SETERROR` naming the rule, at most
    /// ``formatAttempts`` times, and never leaves the agent.
    public func askPIN(_ dialog: PINDialog) async throws(AgentError) -> SecretPIN {
        try await session { connection, timeout throws(AgentError) in
            try connection.command("SETTITLE \(Assuan.escape(dialog.title))")
            try connection.command("SETDESC \(Assuan.escape(dialog.description))")
            try connection.command("SETPROMPT \(Assuan.escape(dialog.prompt))")
            try connection.command("SETTIMEOUT \(timeout)")
            var problem: PINFormatProblem?
            for _ in 0..<Self.formatAttempts {
                if let problem {
                    try connection.command(
                        "SETERROR \(Assuan.escape("The PIN was not sent: \(problem). Enter it again."))")
                }
                try connection.sendLine("GETPIN")
                var bytes = try connection.readData(after: "GETPIN", timeout: .seconds(timeout + Self.graceSeconds))
                do throws(CardCredentialsError) {
                    return try SecretPIN(wiping: &bytes, policy: dialog.policy)
                } catch {
                    guard case .pinFormat(let found) = error else { throw Self.unexpected(error) }
                    problem = found
                }
            }
            throw AgentError(
                .pinFormat,
                "The PIN did not have the card's form \(Self.formatAttempts) times (\(problem.map { "\($0)" } ?? "")); "
                    + "nothing was sent to the card.")
        }
    }

    /// Asks for consent with `CONFIRM`.
    public func confirm(_ dialog: ConsentDialog) async throws(AgentError) {
        try await session { connection, timeout throws(AgentError) in
            try connection.command("SETTITLE \(Assuan.escape(dialog.title))")
            try connection.command("SETDESC \(Assuan.escape(dialog.description))")
            try connection.command("SETOK \(Assuan.escape(dialog.ok))")
            try connection.command("SETCANCEL \(Assuan.escape(dialog.cancel))")
            try connection.command("SETTIMEOUT \(timeout)")
            try connection.command("CONFIRM", timeout: .seconds(timeout + Self.graceSeconds))
        }
    }

    /// Runs a conversation on a thread of its own; a cancelled task kills the program.
    private func session<T: Sendable>(
        _ body: @escaping @Sendable (AssuanConnection, Int64) throws(AgentError) -> T
    ) async throws(AgentError) -> T {
        let killer = ProcessKiller()
        let program = program
        let arguments = arguments
        let environment = ProcessInfo.processInfo.environment.merging(self.environment) { _, new in new }
        let seconds = max(1, timeout.components.seconds)
        let result: Result<T, AgentError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(
                        returning: Result { () throws(AgentError) -> T in
                            let connection = try AssuanConnection(
                                program: program, arguments: arguments, environment: environment, killer: killer)
                            do throws(AgentError) {
                                let value = try body(connection, seconds)
                                connection.end()
                                return value
                            } catch {
                                connection.shutdownAndReap()
                                throw error
                            }
                        })
                }
                thread.name = "pinentry"
                thread.start()
            }
        } onCancel: {
            killer.cancel()
        }
        if killer.isCancelled {
            throw AgentError(.cancelled, "The request was cancelled; nothing was sent to the card.")
        }
        return try result.get()
    }

    private static func unexpected(_ error: CardCredentialsError) -> AgentError {
        AgentError(.pinentryFailed, "The PIN could not be taken: \(error).", status: 500)
    }
}
