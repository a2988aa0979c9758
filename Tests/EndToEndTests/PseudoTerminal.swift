import Foundation
import Testing

/// Runs a tool in a pseudo-terminal, as a person at a terminal runs it: the tool's /dev/tty is the terminal, and
/// the test answers its prompts. Python's `pty` module forks the tool as a session leader with the terminal as its
/// controlling terminal, so that Ctrl-C (`\u{03}`) reaches it as SIGINT, as it does from a keyboard.
enum PseudoTerminal {
    /// One exchange: wait until the screen shows `expect` (after the previous exchange), then type `send`.
    struct Step: Encodable {
        var expect: String
        var send: String
    }

    struct Result {
        /// The exit status, or 128 + the signal that ended the tool.
        var status: Int32
        /// Everything the terminal showed (standard output and standard error together, as on a screen).
        var screen: String
        /// Whether an exchange or the end did not come in time.
        var timedOut: Bool
    }

    private struct Request: Encodable {
        var argv: [String]
        var env: [String: String]
        var steps: [Step]
        var timeout: Double
    }

    private struct Answer: Decodable {
        var status: Int32
        var screen: String
        var timedOut: Bool
    }

    static let driver = #"""
        import json, os, pty, select, sys, time
        request = json.loads(sys.stdin.read())
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(request["argv"][0], request["argv"], request["env"])
        screen = b""
        deadline = time.monotonic() + request["timeout"]
        timed_out = False
        def read_some():
            global screen
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                return True
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            screen += data
            return True
        position = 0
        alive = True
        for step in request["steps"]:
            wanted = step["expect"].encode()
            while alive and screen.find(wanted, position) < 0 and time.monotonic() < deadline:
                alive = read_some()
            found = screen.find(wanted, position)
            if found < 0:
                timed_out = True
                break
            position = found + len(wanted)
            time.sleep(0.05)
            os.write(fd, step["send"].encode())
        while alive and time.monotonic() < deadline:
            alive = read_some()
        if alive:
            timed_out = True
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        print(json.dumps({"status": code, "screen": screen.decode("utf-8", "replace"), "timedOut": timed_out}))
        """#

    /// Runs the tool `name` (built beside the tests) in a terminal, answering with `steps`.
    static func run(
        _ name: String, _ arguments: [String], steps: [Step], environment: [String: String] = [:],
        timeout: Double = 60
    ) async throws -> Result {
        let url = Tools.binDirectory.appendingPathComponent(name)
        try #require(FileManager.default.isExecutableFile(atPath: url.path), "\(url.path) is missing")
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env["TERM"] = "dumb"
        let request = Request(argv: [url.path] + arguments, env: env, steps: steps, timeout: timeout)
        let python = try await Tools.run(
            executable: URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", driver],
            input: String(decoding: try JSONEncoder().encode(request), as: UTF8.self),
            timeout: .seconds(timeout + 10))
        try #require(python.status == 0, "the terminal driver failed: \(python.error)")
        let answer = try JSONDecoder().decode(Answer.self, from: Data(python.output.utf8))
        return Result(status: answer.status, screen: answer.screen, timedOut: answer.timedOut)
    }
}
