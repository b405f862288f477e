#if canImport(Glibc)
    import Glibc
#endif
import CPendulumShim
import PendulumFiles

/// A bounds segment mapped into this process: the daemon's side writes it, readers map it
/// read-only. The mapping lives as long as the value's owner keeps it.
public final class BoundsSegment: @unchecked Sendable {
    // Unchecked: the mapping is only touched through pendulum_bounds_write/read, whose seqlock
    // makes concurrent use safe, and `pointer` never changes after init.
    private let pointer: UnsafeMutablePointer<pendulum_bounds>
    public let path: String
    public let writable: Bool

    /// Creates (or reuses) the file at `path`, mode 0644, for the daemon to publish into. It is
    /// replaced only if it is a regular file of ours or absent: a planted link or FIFO is refused.
    public static func create(at path: String) throws(BoundedTimeError) -> BoundsSegment {
        let fd: Int32
        do {
            fd = try RegularFile.open(path: path, flags: O_RDWR | O_CREAT, mode: 0o644, followingLinks: false).descriptor
        } catch {
            throw .cannotOpen(path: path, code: error.errnoCode)
        }
        defer { close(fd) }
        guard fchmod(fd, 0o644) == 0, ftruncate(fd, off_t(PENDULUM_BOUNDS_SIZE)) == 0 else {
            throw .cannotOpen(path: path, code: errno)
        }
        return try BoundsSegment(fd: fd, path: path, writable: true)
    }

    /// Maps an existing segment read-only.
    public static func open(at path: String) throws(BoundedTimeError) -> BoundsSegment {
        let opened: (descriptor: Int32, size: Int)
        do {
            opened = try RegularFile.open(path: path, flags: O_RDONLY)
        } catch .notRegularFile {
            throw .notABoundsSegment
        } catch {
            throw .cannotOpen(path: path, code: error.errnoCode)
        }
        defer { close(opened.descriptor) }
        guard opened.size >= Int(PENDULUM_BOUNDS_SIZE) else { throw .notABoundsSegment }
        return try BoundsSegment(fd: opened.descriptor, path: path, writable: false)
    }

    private init(fd: Int32, path: String, writable: Bool) throws(BoundedTimeError) {
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        guard let mapping = mmap(nil, Int(PENDULUM_BOUNDS_SIZE), protection, MAP_SHARED, fd, 0), mapping != failed else {
            throw .cannotOpen(path: path, code: errno)
        }
        pointer = mapping.bindMemory(to: pendulum_bounds.self, capacity: 1)
        self.path = path
        self.writable = writable
    }

    deinit {
        munmap(UnsafeMutableRawPointer(pointer), Int(PENDULUM_BOUNDS_SIZE))
    }

    /// Publishes new values (writable segments only).
    public func publish(_ bounds: ClockBounds) {
        guard writable else { return }
        var values = bounds.segment
        pendulum_bounds_write(pointer, &values)
    }

    /// The values last published.
    public func read() throws(BoundedTimeError) -> ClockBounds {
        var copy = pendulum_bounds()
        switch pendulum_bounds_read(pointer, &copy) {
        case 0: return try ClockBounds(segment: copy)
        case -1:
            // An all-zero file: created, nothing published yet.
            if copy.magic == 0 && copy.sequence == 0 { throw .notPublished }
            throw copy.magic == PENDULUM_BOUNDS_MAGIC ? .unsupportedVersion(copy.version) : .notABoundsSegment
        default: throw .inconsistent
        }
    }
}
