import PendulumIO

/// "127.0.0.1:123", "[::1]:123", "[::]:123": a numeric address and a port.
public enum ListenAddressSyntax {
    public static func parse(_ text: String) -> SocketAddress? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText) else { return nil }
        return SocketAddress(ip: String(host), port: port)
    }
}
