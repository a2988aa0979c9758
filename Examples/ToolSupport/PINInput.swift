// Reading PINs and passwords for the example tools: on the terminal without echo, or from standard input.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - PIN input

/// Reads a PIN into a byte buffer the caller wipes (SecretPIN(wiping:) does), never echoing it.
public enum PINInput {
    /// The terminal's settings while echo is off, restored on exit or interrupt.
    nonisolated(unsafe) static var saved: (fd: Int32, attributes: termios)?

    /// Asks on /dev/tty with echo off.
    public static func prompt(_ text: String) throws -> [UInt8] {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw ToolSupportError.noTerminal }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { throw ToolSupportError.noTerminal }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        Interrupts.install()  // restores the echo on Ctrl-C and the other signals that end the tool
        saved = (fd, original)
        _ = tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            _ = tcsetattr(fd, TCSAFLUSH, &original)
            saved = nil
        }
        let prompt = Array(text.utf8)
        _ = prompt.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        let bytes = readLine(from: fd)
        _ = write(fd, "\n", 1)
        return bytes
    }

    /// Reads the first line of standard input.
    public static func readStandardInput() throws -> [UInt8] {
        let bytes = readLine(from: STDIN_FILENO)
        guard !bytes.isEmpty else { throw ToolSupportError.noPINOnStandardInput }
        return bytes
    }

    /// Reads bytes up to a newline or the end, one at a time so nothing is left in a buffer we do not own.
    private static func readLine(from fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)  // one allocation: no copies of the PIN left behind by growth
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            if byte == 0x0A { break }
            if byte != 0x0D, bytes.count < 64 { bytes.append(byte) }
        }
        byte = 0
        return bytes
    }
}
