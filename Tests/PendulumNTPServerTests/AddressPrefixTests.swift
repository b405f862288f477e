import Testing
import PendulumNTPServer

@Suite struct AddressPrefixTests {
    @Test func parsesAndMatches() throws {
        let v4 = try AddressPrefix(parsing: "192.0.2.130/25")
        #expect(v4.description == "192.0.2.128/25")
        #expect(v4.contains([192, 0, 2, 200]))
        #expect(!v4.contains([192, 0, 2, 100]))
        let host = try AddressPrefix(parsing: "::1")
        #expect(host.length == 128)
        #expect(host.contains([UInt8](repeating: 0, count: 15) + [1]))
        let all = try AddressPrefix(parsing: "0.0.0.0/0")
        #expect(all.contains([8, 8, 8, 8]))
        #expect(!all.contains([UInt8](repeating: 0, count: 16)))
        let v6 = try AddressPrefix(parsing: "2001:db8:ffff::/33")
        #expect(v6.contains([0x20, 0x01, 0x0d, 0xb8, 0x80] + [UInt8](repeating: 0, count: 11)))
        #expect(!v6.contains([0x20, 0x01, 0x0d, 0xb9] + [UInt8](repeating: 0, count: 12)))
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "1.2.3.4/33", "::1/129", "1:2:3:4:5:6:7:8:9", "fe80::1::2", "10.0.0.0/-1", "10.0.0.0/x", "１.2.3.4"])
    func rejectsMalformed(text: String) {
        #expect(throws: AddressPrefix.ParseError.self) { try AddressPrefix(parsing: text) }
    }
}
