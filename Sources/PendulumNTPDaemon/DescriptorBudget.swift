#if canImport(Glibc)
import Glibc
#endif

/// How many NTS-KE connections the process can hold without running out of descriptors, each
/// connection being one. Without this the configured `max-connections` could exceed what
/// `ulimit -n` allows, and accept() would start failing before admission ever shed anything.
enum DescriptorBudget {
    /// Left for everything else: a fresh socket per source request, the observation and metrics
    /// sockets, the drift and key files, NIO's own descriptors.
    static let reserved = 32

    /// Raises the soft descriptor limit to the hard one (NIO uses epoll, which has no
    /// FD_SETSIZE ceiling) and returns the limit and the number in use.
    static func raiseAndMeasure() -> (limit: Int, inUse: Int) {
        var limits = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0, limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
        }
        let limit = Int(clamping: limits.rlim_cur)
        return (limit, openDescriptors())
    }

    /// What each of `listeners` NTS-KE listeners may use: connections held, and connections
    /// accepted per wake-up (each holds a descriptor until admitted or refused).
    static func perListener(limit: Int, inUse: Int, listeners: Int) -> (connections: Int, acceptBatch: Int) {
        guard listeners > 0 else { return (0, 1) }
        let (free, overflow) = limit.subtractingReportingOverflow(inUse)
        let available = overflow ? Int.max / 2 : max(0, free - reserved) / listeners
        let batch = min(64, max(1, available / 4))
        return (max(4, available - batch), batch)
    }

    private static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        // ".", ".." and the directory's own descriptor.
        return max(0, count - 3)
    }
}
