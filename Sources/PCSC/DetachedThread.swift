#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts a detached POSIX thread that runs `body`, for the blocking PC/SC calls that must stay off Swift's
/// cooperative pool.
///
/// - Returns: The thread, or `nil` when the system could not make one.
func startDetachedThread(_ body: @escaping () -> Void) -> pthread_t? {
    final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body))
    let result = pthread_create(
        &thread, nil,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
    guard result == 0 else {
        box.release()
        return nil
    }
    pthread_detach(thread)
    return thread
}
