import Testing
@testable import PendulumCommands

struct ServerArgumentTests {
    @Test(arguments: [
        ("time.example", "time.example", nil), ("time.example:4461", "time.example", 4461),
        ("127.0.0.1:123", "127.0.0.1", 123), ("::1", "::1", nil), ("[::1]:4460", "::1", 4460), ("[fe80::1]", "fe80::1", nil),
    ] as [(String, String, UInt16?)])
    func serversAreReadWithOrWithoutAPort(text: String, host: String, port: UInt16?) {
        #expect(ServerArgument(text) == ServerArgument(host: host, port: port))
    }

    @Test(arguments: ["", ":123", "host:", "host:0", "host:65536", "host:x", "[::1", "[::1]x", "[::1]:", "[]:123"])
    func malformedServersAreRefused(text: String) {
        #expect(ServerArgument(text) == nil)
    }
}
