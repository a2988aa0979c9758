#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Runs blocking socket I/O on a detached POSIX thread of its own, off Swift's cooperative pool.
enum DeliveryThread {
    /// Starts a detached thread that runs `body`; false (and `body` never runs) when the system could not make
    /// one.
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(DeliveryThreadBody(body)).toOpaque()
        #if canImport(Darwin)
            var thread: pthread_t?
            let result = pthread_create(&thread, nil, deliveryThreadMain, box)
            if result == 0, let thread { pthread_detach(thread) }
        #else
            var thread = pthread_t()
            let result = pthread_create(&thread, nil, deliveryThreadMain, box)
            if result == 0 { pthread_detach(thread) }
        #endif
        guard result == 0 else {
            Unmanaged<DeliveryThreadBody>.fromOpaque(box).release()
            return false
        }
        return true
    }
}

/// The closure a delivery thread runs, kept alive across `pthread_create`.
private final class DeliveryThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

#if canImport(Darwin)
    private func deliveryThreadMain(_ raw: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        Unmanaged<DeliveryThreadBody>.fromOpaque(raw).takeRetainedValue().run()
        return nil
    }
#else
    private func deliveryThreadMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        guard let raw else { return nil }
        Unmanaged<DeliveryThreadBody>.fromOpaque(raw).takeRetainedValue().run()
        return nil
    }
#endif
