// libFuzzer target: pendulum-ptpd's configuration parser is total on any bytes (a typed
// ConfigurationError, never a trap), and what it accepts has at least one port.
// PTPDaemonConfiguration.swift is compiled into this fuzzer (see Fuzz/targets.txt).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPTPDaemonConfigParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try PTPDaemonConfiguration(toml: text)
        precondition(!configuration.ports.isEmpty, "accepted a configuration without ports")
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
