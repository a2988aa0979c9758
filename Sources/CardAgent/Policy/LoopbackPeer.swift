import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which user's program is at the other end of a loopback TCP connection: Linux lists every TCP socket with its
/// owner's user ID in `/proc/net/tcp` and `/proc/net/tcp6`. The client's socket is the one whose local address is
/// the connection's remote address and whose remote address is the agent's own.
///
/// ```swift
/// let user = LoopbackPeer.userID(client: ("127.0.0.1", 51234), server: ("127.0.0.1", 24780))
/// ```
public enum LoopbackPeer {
    /// The user ID owning the client's end of the connection from `client` to `server`, or nil when the tables do
    /// not list it (another platform, the connection already gone).
    ///
    /// - Parameters:
    ///   - client: The connection's remote end: an IPv4 or IPv6 address in text and its port.
    ///   - server: The agent's end of it.
    ///   - tables: The kernel's tables to read.
    public static func userID(
        client: (address: String, port: Int), server: (address: String, port: Int),
        tables: [String] = ["/proc/net/tcp", "/proc/net/tcp6"]
    ) -> UInt32? {
        guard let clientKey = key(client), let serverKey = key(server) else { return nil }
        for table in tables {
            // Read to the end: procfs files say they are empty, and a one-read loader stops after the first page.
            guard let handle = FileHandle(forReadingAtPath: table) else { continue }
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            try? handle.close()
            if let user = userID(in: text, local: clientKey, remote: serverKey) { return user }
        }
        return nil
    }

    /// The user ID of the socket listed in `table` (the text of `/proc/net/tcp` or `tcp6`) with the local and
    /// remote addresses `local` and `remote` in the table's notation (``key(_:)``).
    static func userID(in table: String, local: String, remote: String) -> UInt32? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local rem st queues timer retransmits uid …
            guard fields.count > 7, fields[1] == local, fields[2] == remote else { continue }
            return UInt32(fields[7])
        }
        return nil
    }

    /// An address and port as the tables write them: the address's 32-bit words in the host's byte order (the
    /// kernel prints them as it stores them), then the port in hexadecimal, all upper case. `127.0.0.1:24780` is
    /// `0100007F:60CC` on a little-endian machine.
    static func key(_ endpoint: (address: String, port: Int)) -> String? {
        var bytes: [UInt8]
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, endpoint.address, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
        } else if inet_pton(AF_INET6, endpoint.address, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
        } else {
            return nil
        }
        var text = ""
        for start in stride(from: 0, to: bytes.count, by: 4) {
            var word = UInt32(0)
            for index in 0..<4 { word |= UInt32(bytes[start + index]) << (8 * UInt32(index)) }
            // The word as the machine holds it: the network bytes read in the host's order.
            text += String(format: "%08X", UInt32(littleEndian: word))
        }
        return text + String(format: ":%04X", endpoint.port)
    }
}
