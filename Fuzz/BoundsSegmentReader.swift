import CPendulumShim
import PendulumBoundedTime

/// A bounds segment is a file another process wrote: whatever 128 bytes it holds, at whatever
/// clock readings, the reader refuses them with an error or returns an interval whose bounds
/// are ordered around the clock — never a trap on overflow or a NaN.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= Int(PENDULUM_BOUNDS_SIZE) + 16 else { return 0 }
    var segment = pendulum_bounds()
    withUnsafeMutableBytes(of: &segment) { raw in
        raw.copyMemory(from: UnsafeRawBufferPointer(start: data, count: Int(PENDULUM_BOUNDS_SIZE)))
    }
    // Half the inputs get a valid header so the arithmetic behind it is reached.
    if data[0] & 1 == 0 {
        segment.magic = PENDULUM_BOUNDS_MAGIC
        segment.version = UInt32(PENDULUM_BOUNDS_VERSION)
        segment.size = UInt32(PENDULUM_BOUNDS_SIZE)
    }
    let readings = UnsafeRawBufferPointer(start: data + Int(PENDULUM_BOUNDS_SIZE), count: 16)
    let realtime = readings.loadUnaligned(fromByteOffset: 0, as: Int64.self)
    let monotonic = readings.loadUnaligned(fromByteOffset: 8, as: Int64.self)
    guard let bounds = try? ClockBounds(segment: segment),
        let instant = try? bounds.interval(realtimeNanoseconds: realtime, monotonicNanoseconds: monotonic)
    else { return 0 }
    precondition(instant.earliest <= instant.clock && instant.clock <= instant.latest)
    precondition(instant.boundNanoseconds >= 0)
    precondition((try? ClockBounds(segment: bounds.segment)) == bounds)
    return 0
}
