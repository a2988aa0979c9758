import CardCredentials
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One pinentry process and the Assuan conversation with it, over a socket pair that is the child's standard
/// input and output (a socket, not pipes, so that writing to a program that died is an error, not `SIGPIPE`).
///
/// Blocking: used only on a thread of its own (``Pinentry`` starts one), never on Swift's cooperative pool.
final class AssuanConnection {
    private let process: Process
    private let socket: Int32
    /// Bytes received and not yet handed out as lines; wiped when the connection closes.
    private var pending: [UInt8] = []
    private let program: String
    /// The process, for a cancellation that kills it from another thread.
    let killer: ProcessKiller

    /// Starts `program` and reads its greeting.
    init(program: String, arguments: [String], environment: [String: String], killer: ProcessKiller)
        throws(AgentError)
    {
        self.program = program
        self.killer = killer
        guard let path = Self.resolve(program, path: environment["PATH"]) else {
            throw AgentError(
                .pinentryFailed,
                "The PIN dialog program \(program) was not found; install a pinentry (pinentry-gnome3, pinentry-qt, "
                    + "pinentry-curses) or set PI_PINENTRY or the configuration's pinentry to its path.",
                status: 500)
        }
        var fds: [Int32] = [-1, -1]
        #if canImport(Glibc)
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
            let type = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw AgentError(
                .pinentryFailed, "The PIN dialog could not be started: no socket pair (errno \(errno)).",
                status: 500)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        let childEnd = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        process.standardInput = childEnd
        process.standardOutput = childEnd
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            close(fds[0])
            close(fds[1])
            throw AgentError(
                .pinentryFailed,
                "The PIN dialog program \(program) could not be started (\(error.localizedDescription)); set "
                    + "PI_PINENTRY or the configuration's pinentry to a pinentry program.",
                status: 500)
        }
        close(fds[1])
        self.process = process
        self.socket = fds[0]
        killer.started(process.processIdentifier)
        try expectOK(after: "its greeting", timeout: .seconds(10))
    }

    /// Sends `command` (its parameter already escaped) and reads up to its `OK`.
    func command(_ command: String, timeout: Duration = .seconds(10)) throws(AgentError) {
        try sendLine(command)
        try expectOK(after: command.prefix { $0 != " " }.description, timeout: timeout)
    }

    /// Sends a line.
    func sendLine(_ line: String) throws(AgentError) {
        var bytes = Array(line.utf8) + [0x0A]
        defer { Assuan.wipe(&bytes) }
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
                let flags = Int32(MSG_NOSIGNAL)
            #else
                let flags: Int32 = 0
            #endif
            let written = bytes.withUnsafeBytes { send(socket, $0.baseAddress! + offset, $0.count - offset, flags) }
            if written < 0 {
                if errno == EINTR { continue }
                throw died("while the agent wrote to it")
            }
            offset += written
        }
    }

    /// Reads the answer to a command that only says `OK` or `ERR`: status and comment lines are skipped.
    func expectOK(after what: String, timeout: Duration) throws(AgentError) {
        while true {
            var line = try readLine(timeout: timeout)
            defer { Assuan.wipe(&line) }
            if Self.starts(line, with: "OK") { return }
            if Self.starts(line, with: "ERR") { throw Self.error(line, after: what) }
            if Self.starts(line, with: "S") || Self.starts(line, with: "#") { continue }
            throw malformed(after: what)
        }
    }

    /// Reads the `D` lines up to `OK` (the answer to `GETPIN`), percent-unescaped into one buffer the caller
    /// must wipe. No byte of an answer appears in a thrown error.
    func readData(after what: String, timeout: Duration) throws(AgentError) -> [UInt8] {
        var data: [UInt8] = []
        var finished = false
        defer { if !finished { Assuan.wipe(&data) } }
        while true {
            var line = try readLine(timeout: timeout)
            defer { Assuan.wipe(&line) }
            if Self.starts(line, with: "D") {
                guard line.count >= 2, line[1] == 0x20, Assuan.unescape(line[2...], into: &data) else {
                    throw malformed(after: what)
                }
            } else if Self.starts(line, with: "OK") {
                finished = true
                return data
            } else if Self.starts(line, with: "ERR") {
                throw Self.error(line, after: what)
            } else if Self.starts(line, with: "S") || Self.starts(line, with: "#") {
                continue
            } else if Self.starts(line, with: "INQUIRE") {
                try sendLine("CAN")
            } else {
                throw malformed(after: what)
            }
        }
    }

    /// Says `BYE`, closes the socket, and makes sure the process is gone (killed after a second).
    func end() {
        _ = try? sendLine("BYE")
        shutdownAndReap()
    }

    /// Closes the socket and reaps the process, killing it when it does not end by itself within a second.
    func shutdownAndReap() {
        close(socket)
        Assuan.wipe(&pending)
        // Not `waitUntilExit()`, which spins for ever when Foundation misses the child's exit.
        _ = process.waitForExit(killingAfter: .seconds(1))
        killer.finished()
    }

    // MARK: - Lines

    /// The next line without its line feed; the caller wipes it.
    private func readLine(timeout: Duration) throws(AgentError) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 1024)
        defer { Assuan.wipe(&chunk) }
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                var line = Array(pending[..<newline])
                if line.last == 0x0D { line.removeLast() }
                // Shift in place so that no copy of the bytes stays behind in a discarded buffer.
                let rest = pending.count - newline - 1
                for i in 0..<rest { pending[i] = pending[newline + 1 + i] }
                for i in rest..<pending.count { pending[i] = 0 }
                pending.removeLast(pending.count - rest)
                return line
            }
            guard pending.count <= Assuan.maximumLineLength else {
                throw malformed(after: "a line longer than \(Assuan.maximumLineLength) bytes")
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw AgentError(
                    .timeout,
                    "The PIN dialog program \(program) did not answer in time; nothing was sent to the card.",
                    status: 409)
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + 1)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw died("before it answered") }
            pending.append(contentsOf: chunk[..<count])
        }
    }

    private static func starts(_ line: [UInt8], with keyword: String) -> Bool {
        let key = Array(keyword.utf8)
        return line.count >= key.count && Array(line[..<key.count]) == key
            && (line.count == key.count || line[key.count] == 0x20)
    }

    /// The error of an `ERR <code> <text>` line: cancel and timeout typed, others by their number only (the
    /// text is never quoted, so nothing a dialog answered can reach a log).
    private static func error(_ line: [UInt8], after what: String) -> AgentError {
        let fields = line.split(separator: 0x20)
        let number = fields.count >= 2 ? UInt32(String(decoding: fields[1].prefix(10), as: UTF8.self)) : nil
        switch number.map({ $0 & 0xFFFF }) {
        case Assuan.ErrorCode.cancelled?:
            return AgentError(.cancelled, "The PIN dialog was cancelled; nothing was sent to the card.")
        case Assuan.ErrorCode.notConfirmed?:
            return AgentError(.cancelled, "The request was declined in the dialog; nothing was sent to the card.")
        case Assuan.ErrorCode.timeout?:
            return AgentError(.timeout, "The PIN dialog timed out before an answer; nothing was sent to the card.")
        default:
            return AgentError(
                .pinentryFailed,
                "The PIN dialog program refused \(what) (error \(number.map(String.init) ?? "without a number")); "
                    + "nothing was sent to the card.",
                status: 500)
        }
    }

    private func malformed(after what: String) -> AgentError {
        AgentError(
            .pinentryFailed,
            "The PIN dialog program \(program) answered \(what) with something that is not the Assuan protocol; "
                + "nothing was sent to the card. Check that PI_PINENTRY or the configuration's pinentry names a "
                + "pinentry program.",
            status: 500)
    }

    private func died(_ when: String) -> AgentError {
        AgentError(
            .pinentryFailed,
            "The PIN dialog program \(program) ended \(when); nothing was sent to the card. Try again; if it keeps "
                + "happening, check the program (PI_PINENTRY or the configuration's pinentry).",
            status: 500)
    }

    /// The executable for `program`: itself when it names a path, else the first match on `PATH`.
    static func resolve(_ program: String, path: String?) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// The process of a dialog in progress, so that a cancelled request can kill it from another thread (the
/// blocked read then ends).
final class ProcessKiller: Sendable {
    private struct State {
        var pid: pid_t?
        var cancelled = false
    }
    private let state = Mutex(State())

    /// Records the started process; kills it at once if the request was cancelled already.
    func started(_ pid: pid_t) {
        let cancelled = state.withLock { s in
            s.pid = pid
            return s.cancelled
        }
        if cancelled { kill(pid, SIGKILL) }
    }

    /// The process was reaped: nothing to kill any more.
    func finished() {
        state.withLock { $0.pid = nil }
    }

    /// Kills the process, if one runs.
    func cancel() {
        let pid = state.withLock { s in
            s.cancelled = true
            return s.pid
        }
        if let pid { kill(pid, SIGKILL) }
    }

    /// Whether ``cancel()`` was called.
    var isCancelled: Bool { state.withLock { $0.cancelled } }
}
